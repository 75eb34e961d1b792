// FrontendApp's Responses API routes: POST /v1/responses and
// GET /v1/responses/{id}. The request becomes the same job the chat route
// sends (responses/responses_request.h), with the stored conversation in
// front when it names previous_response_id; the answer is rendered by
// responses::ResponsesCall. Errors are OpenAI-shaped.
#include "common/ids.h"
#include "common/log.h"
#include "common/model_variants.h"
#include "common/uv/handle.h"
#include "frontend/frontend_app.h"
#include "frontend/responses/responses_call.h"

namespace qp::frontend {
namespace {

constexpr std::string_view kThinkingSuffix = "-thinking";
constexpr std::string_view kEndpoint = "/v1/responses";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// OpenAI's answer to a previous_response_id it does not have (400 there too
// for store:false responses, which it never kept).
ApiError previous_not_found(const std::string& id) {
  return ApiError{Code::kNotFound, "Previous response with id '" + id + "' not found.",
                  "previous_response_id", "previous_response_not_found", 0};
}

}  // namespace

void FrontendApp::handle_responses(http::Exchange ex, const Caller& caller) {
  const http::Request& req = ex.request();
  std::string rid = new_request_id(req);
  auto r = std::make_shared<responses::ResponsesRequest>();
  ApiError err;
  if (!responses_parser_.parse(req.body, r.get(), &err)) {
    QP_INFO("request.invalid")
        .kv("request_id", rid)
        .kv("param", err.param)
        .kv("message", err.message);
    return reply_error(ex, err, rid, r->job.model, &caller);
  }
  std::vector<protocol::ChatMessage> history;
  std::string stored_items;
  if (!r->previous_response_id.empty()) {
    std::optional<responses::StoredResponse> prev;
    if (response_store_) prev = response_store_->find(r->previous_response_id, uv::now_unix_ms());
    if (!prev)
      return reply_error(ex, previous_not_found(r->previous_response_id), rid, {}, &caller);
    if (!responses_parser_.parse_items(prev->items_json, &history, &err))
      return reply_error(ex, previous_not_found(r->previous_response_id), rid, {}, &caller);
    stored_items = std::move(prev->items_json);
  }
  if (r->web_search && !config_.responses.web_search) {
    r->web_search = false;
    r->ignored_tools.emplace_back("web_search (responses.web_search is off)");
  }
  if (!r->ignored_tools.empty()) {
    std::string types;
    for (const auto& t : r->ignored_tools) types.append(types.empty() ? "" : ",").append(t);
    QP_WARN("responses.tools_ignored").kv("request_id", rid).kv("types", types);
  }
  r->input_items = responses::join_arrays({stored_items, r->input_items});
  responses::finish(r.get(), std::move(history));
  if (!auth_->check_model(caller, r->job.model, &err))
    return reply_error(ex, err, rid, r->job.model, &caller);
  if (defer_until_models(ex, r->job.model, rid, [this, ex, r, rid, caller]() mutable {
        submit_responses(ex, std::move(*r), rid, caller);
      }))
    return;
  submit_responses(ex, std::move(*r), rid, caller);
}

void FrontendApp::submit_responses(http::Exchange ex, responses::ResponsesRequest r,
                                   const std::string& rid, const Caller& caller) {
  auto& job = r.job;
  std::string requested = job.model;
  // reasoning.effort is JobRequest.features (set by the parser), applied
  // where the model can think: where the list has its "<model>-thinking"
  // variant (a key limited to some models must allow that variant), as on
  // the Anthropic route. A web_search tool offers Qwen's search to the model
  // (feature_config.auto_search): Codex offers it on every request, and a
  // forced search chat on every coding turn would be wrong.
  if (job.features.thinking == 1 && !ends_with(job.model, kThinkingSuffix)) {
    std::string variant = job.model + std::string(kThinkingSuffix);
    if (models_.find(variant) == nullptr || !caller.allows_model(variant)) {
      job.features.thinking = -1;
      job.features.thinking_budget = 0;
      r.thinking = false;
    }
  }
  if (r.web_search) job.features.auto_search = true;
  // Deep research streams its planning and search steps as reasoning: the
  // reasoning summary shows them whatever reasoning.effort says.
  if (has_model_suffix(job.model, kDeepResearchSuffix)) r.thinking = true;
  if (models_.fresh(uv_now(loop_)) && models_.find(job.model) == nullptr) {
    return reply_error(
        ex,
        ApiError{Code::kNotFound,
                 "The model '" + requested + "' does not exist or you do not have access to it.",
                 "model", "model_not_found", 0},
        rid, {}, &caller);
  }
  if (refuse_non_vision(ex, job, rid, caller)) return;
  KeyLease lease;
  if (!admit_job(ex, job, rid, caller, &lease)) return;
  int64_t input_tokens = static_cast<int64_t>((r.input_bytes + 3) / 4);
  responses::ResponseEcho echo = responses::ResponseEcho::of(
      r, "resp_" + ids::random_hex(24), uv::now_unix_ms() / 1000, input_tokens);
  echo.model = requested;
  responses::ResponseStore* store = r.store ? response_store_.get() : nullptr;
  auto call = std::make_unique<responses::ResponsesCall>(
      ex, rid, job.stream, responses::ResponseEvents(std::move(echo)), store,
      store != nullptr ? std::move(r.input_items) : std::string());
  call->start_keepalive(loop_, config_.frontend.sse_keepalive_ms);
  call->hold(std::move(lease));
  call->observe(&observers_, make_record(job, rid, caller, kEndpoint));
  launch(ex, job, std::move(call), caller);
}

void FrontendApp::handle_response_get(http::Exchange ex, std::string_view id,
                                      const Caller& caller) {
  std::string rid = ids::random_hex(24);
  std::optional<responses::StoredResponse> found;
  if (response_store_ && !id.empty()) found = response_store_->find(id, uv::now_unix_ms());
  if (!found) {
    return reply_error(
        ex,
        ApiError{
            Code::kNotFound, "Response with id '" + std::string(id) + "' not found.", {}, {}, 0},
        rid, {}, &caller);
  }
  ex.respond(200, api_headers(rid, "application/json"), std::move(found->response_json));
  report_end(kEndpoint, {}, &caller, rid, nullptr);
}

}  // namespace qp::frontend
