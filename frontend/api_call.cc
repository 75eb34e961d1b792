#include "frontend/api_call.h"

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

}  // namespace qp::frontend
