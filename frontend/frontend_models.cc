// FrontendApp's model list: GET /v1/models[/{id}] from the cached list
// (ModelsCache), refreshed through one broker job at a time (ModelsFetch);
// requests for a model the cache does not know yet wait for that refresh
// (defer_until_models) instead of failing on a cold start.
#include "common/ids.h"
#include "common/log.h"
#include "common/uv/handle.h"
#include "frontend/frontend_app.h"
#include "frontend/models_fetch.h"

namespace qp::frontend {

void FrontendApp::ModelsFetch::wait(http::Exchange ex, std::string model_id, std::string rid,
                                    Caller caller) {
  waiters_.push_back({ex, std::move(model_id), std::move(rid), std::move(caller)});
}

void FrontendApp::ModelsFetch::on_done(const protocol::JobDone&) {
  on_error(
      {request_id_, Code::kProtocol, "unexpected reply to a model list request", 0, {}, 0, {}});
}

void FrontendApp::ModelsFetch::on_error(const protocol::JobError& e) {
  for (auto& w : waiters_)
    app_->reply_error(w.ex, ApiError{e.code, e.message, {}, {}, e.retry_after_s}, w.rid, {},
                      &w.caller);
  waiters_.clear();
  run_then(&e);
}

void FrontendApp::ModelsFetch::on_models(const protocol::ModelList& list) {
  app_->models_.store(list, uv_now(app_->loop_));
  for (auto& w : waiters_) app_->handle_models(w.ex, w.model_id, w.caller);
  waiters_.clear();
  run_then(nullptr);
}

void FrontendApp::ModelsFetch::run_then(const protocol::JobError* e) {
  auto fns = std::move(then_);
  then_.clear();
  for (auto& fn : fns) fn(e);
}

void FrontendApp::fetch_models() {
  if (models_fetch_) return;
  std::string rid = ids::random_hex(24);
  auto fetch = std::make_unique<ModelsFetch>(this, rid);
  protocol::JobRequest job;
  job.request_id = rid;
  job.kind = protocol::JobKind::kListModels;
  job.created_unix_ms = uv::now_unix_ms();
  if (Status s = broker_->submit(job, fetch.get()); !s.ok()) {
    QP_DEBUG("models.fetch_failed").kv("error", s.message());
    return;
  }
  models_fetch_ = std::move(fetch);
}

void FrontendApp::handle_models(http::Exchange ex, std::string_view id, const Caller& caller) {
  std::string rid = ids::random_hex(24);
  uint64_t now = uv_now(loop_);
  if (!models_.fresh(now)) {
    // Serve a stale list rather than fail; refresh in the background.
    if (!models_.has()) {
      fetch_models();
      if (!models_fetch_) {
        return reply_error(
            ex,
            ApiError{Code::kUnavailable, "The broker is not reachable; please retry.", {}, {}, 1},
            rid, {}, &caller);
      }
      models_fetch_->wait(ex, std::string(id), rid, caller);
      return;
    }
    fetch_models();
  }
  if (id.empty()) {
    // A key limited to some models sees only those (as OpenAI lists a
    // project's models).
    ex.respond(200, api_headers(rid, "application/json"),
               models_.list_json([&](std::string_view m) { return caller.allows_model(m); }));
    report_end("/v1/models", {}, &caller, rid, nullptr);
    return;
  }
  const protocol::ModelInfo* m = models_.find(id);
  if (m == nullptr || !caller.allows_model(id)) {
    return reply_error(ex,
                       ApiError{Code::kNotFound,
                                "The model '" + std::string(id) +
                                    "' does not exist or you do not have access to it.",
                                "model", "model_not_found", 0},
                       rid, {}, &caller);
  }
  ex.respond(200, api_headers(rid, "application/json"), ModelsCache::model_json(*m));
  report_end("/v1/models", m->id, &caller, rid, nullptr);
}

bool FrontendApp::defer_until_models(http::Exchange ex, const std::string& model,
                                     const std::string& rid, std::function<void()> then) {
  uint64_t now = uv_now(loop_);
  bool listed = models_.has() && models_.find(model) != nullptr;
  if (!models_.fresh(now)) fetch_models();  // refresh in the background
  if (listed || models_.fresh(now) || !models_fetch_) return false;
  models_fetch_->then([this, ex, rid, then = std::move(then)](const protocol::JobError* e) mutable {
    if (!ex.alive()) return;
    if (e != nullptr && e->code == Code::kUnavailable)
      return reply_error(ex, ApiError{e->code, e->message, {}, {}, e->retry_after_s}, rid);
    then();
  });
  return true;
}

}  // namespace qp::frontend
