#include "frontend/api_call.h"

#include "common/log.h"
#include "frontend/chat_call.h"

namespace qp::frontend {

void ApiCall::observe(RequestObserver* observer, RequestRecord record) {
  observer_ = observer;
  record_ = std::move(record);
  if (observer_ != nullptr) observer_->on_start(record_);
}

void ApiCall::on_error(const protocol::JobError& e) {
  fail(ApiError{e.code, e.message, {}, e.error_code, e.retry_after_s});
}

void ApiCall::on_models(const protocol::ModelList&) {
  fail(ApiError{Code::kInternal, "unexpected reply (a model list) to an API request", {}, {}, 0});
}

bool ApiCall::finish() {
  if (finished_) return false;
  finished_ = true;
  return true;
}

void ApiCall::abandon(std::string_view why) {
  if (!finish()) return;
  RequestOutcome out;
  out.http_status = 499;
  out.error_type = "client_closed_request";
  out.message = why;
  report_end(out);
}

void ApiCall::note_chunk(const protocol::JobChunk& chunk, bool has_content) {
  if (!chunk.account.empty()) record_.account = chunk.account;
  if (!has_content) return;
  ++record_.chunks;
  if (record_.first_content_ns == 0) {
    record_.first_content_ns = steady_now_ns();
    if (observer_ != nullptr) observer_->on_first_content(record_);
  }
}

void ApiCall::report_done(const protocol::JobDone& done, std::string_view finish_reason) {
  lease_.record_usage(done.usage);
  record_.account = done.account;
  RequestOutcome out;
  out.finish_reason = finish_reason;
  if (done.has_usage) out.usage = &done.usage;
  report_end(out);
}

void ApiCall::report_failure(int http_status, std::string_view error_type, const ApiError& error) {
  RequestOutcome out;
  out.http_status = http_status;
  out.error_type = error_type;
  out.error_code = error.error_code;
  out.message = error.message;
  report_end(out);
}

void ApiCall::report_end(const RequestOutcome& outcome) {
  if (observer_ == nullptr) return;
  RequestObserver* o = observer_;
  observer_ = nullptr;  // exactly once
  o->on_end(record_, outcome);
}

void ApiCall::start_sse(http::Exchange& ex, const std::string& request_id) {
  auto h = api_headers(request_id, "text/event-stream; charset=utf-8");
  h.push_back({"cache-control", "no-cache"});
  h.push_back({"x-accel-buffering", "no"});
  ex.start_stream(200, std::move(h));
}

void ApiCall::respond_error(http::Exchange& ex, const std::string& request_id, int status,
                            std::string body, const ApiError& error) {
  auto h = api_headers(request_id, "application/json");
  if (error.retry_after_s > 0) h.push_back({"retry-after", std::to_string(error.retry_after_s)});
  ex.respond(status, std::move(h), std::move(body));
}

void ApiCall::log_done(const std::string& request_id, std::string_view finish_reason,
                       const protocol::JobDone& done) {
  QP_INFO("request.done")
      .kv("request_id", request_id)
      .kv("finish_reason", finish_reason)
      .kv("account", done.account)
      .kv("completion_tokens", done.usage.completion_tokens);
}

void ApiCall::log_failed(const std::string& request_id, const ApiError& error) {
  QP_WARN("request.failed")
      .kv("request_id", request_id)
      .kv("code", code_name(error.code))
      .kv("message", error.message);
}

}  // namespace qp::frontend
