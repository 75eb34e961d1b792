// FrontendApp's Anthropic routes: POST /v1/messages and
// /v1/messages/count_tokens. The request becomes the same job the OpenAI
// route sends (anthropic/messages_request.h); the answer is rendered by
// anthropic::MessagesCall. Errors are Anthropic-shaped (reply_error knows
// these paths).
#include "common/json/writer.h"
#include "common/log.h"
#include "common/model_variants.h"
#include "frontend/anthropic/messages_call.h"
#include "frontend/frontend_app.h"

namespace qp::frontend {
namespace {

constexpr std::string_view kThinkingVariant = "-thinking";
constexpr std::string_view kCountTokensRoute = "/v1/messages/count_tokens";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

void FrontendApp::handle_messages(http::Exchange ex, const Caller& caller, bool count_only) {
  const http::Request& req = ex.request();
  std::string rid = new_request_id(req);
  auto m = std::make_shared<anthropic::MessagesRequest>();
  ApiError err;
  auto mode = count_only ? anthropic::MessagesRequestParser::Mode::kCountTokens
                         : anthropic::MessagesRequestParser::Mode::kMessages;
  if (!messages_parser_.parse(req.body, mode, m.get(), &err)) {
    QP_INFO("request.invalid")
        .kv("request_id", rid)
        .kv("param", err.param)
        .kv("message", err.message);
    return reply_error(ex, err, rid, m->requested_model, &caller);
  }
  if (count_only) {
    std::string body;
    json::Writer w(&body);
    w.begin_object().field("input_tokens", anthropic::estimate_tokens(m->input_bytes)).end_object();
    ex.respond(200, api_headers(rid, "application/json"), std::move(body));
    report_end(kCountTokensRoute, m->requested_model, &caller, rid, nullptr);
    return;
  }
  m->job.model = anthropic::map_model(config_.anthropic, m->requested_model);
  if (!auth_->check_model(caller, m->job.model, &err))
    return reply_error(ex, err, rid, m->job.model, &caller);
  // As handle_chat: a model missing from a stale or absent list waits for it.
  if (defer_until_models(ex, m->job.model, rid, [this, ex, m, rid, caller]() mutable {
        submit_messages(ex, std::move(*m), rid, caller);
      }))
    return;
  submit_messages(ex, std::move(*m), rid, caller);
}

void FrontendApp::submit_messages(http::Exchange ex, anthropic::MessagesRequest m,
                                  const std::string& rid, const Caller& caller) {
  auto& job = m.job;
  // Thinking goes to the worker as JobRequest.features (thinking on, the
  // budget_tokens as Qwen's thinking_budget), where the model can think:
  // where the list has its "<model>-thinking" variant (a key limited to
  // some models must allow that variant). A model named with the suffix
  // thinks anyway.
  if (m.thinking && !ends_with(job.model, kThinkingVariant)) {
    std::string variant = job.model + std::string(kThinkingVariant);
    if (models_.find(variant) != nullptr && caller.allows_model(variant)) {
      job.features.thinking = 1;
      job.features.thinking_budget = m.thinking_budget;
    }
  }
  if (models_.fresh(uv_now(loop_)) && models_.find(job.model) == nullptr) {
    return reply_error(ex,
                       ApiError{Code::kNotFound,
                                "model: '" + m.requested_model + "' (served by '" + job.model +
                                    "') does not exist or you do not have access to it.",
                                "model", "model_not_found", 0},
                       rid, {}, &caller);
  }
  if (refuse_non_vision(ex, job, rid, caller)) return;
  KeyLease lease;
  if (!admit_job(ex, job, rid, caller, &lease)) return;
  // Deep research streams its planning and search steps as reasoning:
  // thinking blocks, unless the request asked for them to be omitted.
  bool show_thinking =
      (m.thinking || has_model_suffix(job.model, kDeepResearchSuffix)) && !m.thinking_omitted;
  anthropic::MessageEvents events("msg_" + rid, m.requested_model,
                                  static_cast<int64_t>(anthropic::estimate_tokens(m.input_bytes)),
                                  show_thinking);
  auto call =
      std::make_unique<anthropic::MessagesCall>(loop_, ex, rid, job.stream, std::move(events));
  call->hold(std::move(lease));
  call->observe(&observers_, make_record(job, rid, caller, "/v1/messages"));
  launch(ex, job, std::move(call), caller);
}

}  // namespace qp::frontend
