#include "worker/parse_call.h"

#include <exception>

#include "common/log.h"
#include "common/uv/callback.h"
#include "worker/qwen_client.h"

namespace qp::worker {
namespace {

// The answers are short JSON; a WAF challenge page is ~16 KiB of HTML.
constexpr size_t kMaxAnswerBytes = 256 * 1024;

}  // namespace

ParseCall::ParseCall(QwenClient* client, std::string request_id, std::string file_id,
                     ParseLimits limits, Done done)
    : client_(client),
      request_id_(std::move(request_id)),
      file_id_(std::move(file_id)),
      limits_(limits),
      done_(std::move(done)) {}

ParseCall::~ParseCall() { cancel(); }

Status ParseCall::start() {
  if (step_ != Step::kIdle) return error(Code::kInternal, "ParseCall started twice");
  if (int r = uv_timer_init(client_->multi()->loop(), timer_.get()); r != 0)
    return error(Code::kInternal, std::string("uv_timer_init: ") + uv_strerror(r));
  timer_.get()->data = this;
  step_ = Step::kParse;
  schedule(0);
  return Status();
}

void ParseCall::cancel() {
  if (step_ == Step::kEnded) return;
  step_ = Step::kEnded;
  if (request_) request_->abort();
  if (timer_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(timer_.get());
}

void ParseCall::schedule(uint64_t delay_ms) {
  uv_timer_start(timer_.get(), uv::method<&ParseCall::on_timer>, delay_ms, 0);
}

void ParseCall::on_timer() {
  if (step_ == Step::kEnded) return;
  request_.reset();  // outside its callback now
  if (!ending_) return send();
  step_ = Step::kEnded;
  const UpstreamFailure* f = outcome_ ? &*outcome_ : nullptr;
  done_(f);  // last statement: the owner may move on
}

void ParseCall::send() {
  bool status = step_ == Step::kStatus;
  HttpRequestSpec spec =
      client_->make_spec(status ? Endpoint::kFileParseStatus : Endpoint::kFileParse, {},
                         status ? parse_status_body(file_id_) : parse_body(file_id_));
  spec.post = true;  // both are JSON POSTs (make_spec decides for the chat endpoints only)
  spec.total_timeout_ms = client_->upload_timeout_ms();
  spec.max_body_bytes = kMaxAnswerBytes;
  request_ = std::make_unique<HttpRequest>(client_->multi(), std::move(spec), listener());
  if (Status s = request_->start(); !s.ok()) {
    end_soon(UpstreamFailure{Code::kInternal,
                             "worker failed to start the document parse request: " + s.message(), 0,
                             nullptr});
  }
}

void ParseCall::on_complete(HttpResult result) {
  if (step_ == Step::kEnded || ending_) return;
  if (result.failure) return end_soon(*result.failure);
  if (step_ == Step::kParse) {
    ParseAnswer a = read_parse_answer(result.status, result.content_type, result.body);
    if (a.state == ParseState::kFailed) return end_soon(*a.failure);
    step_ = Step::kStatus;
    return schedule(limits_.interval_ms);
  }
  ++polls_;
  ParseAnswer a = read_parse_status(result.status, result.content_type, result.body, file_id_);
  if (a.state == ParseState::kReady) {
    QP_DEBUG("parse.done").kv("request_id", request_id_).kv("polls", polls_);
    return end_soon(std::nullopt);
  }
  if (a.state == ParseState::kFailed) return end_soon(*a.failure);
  std::optional<uint64_t> delay = next_poll_delay(limits_, polls_);
  if (!delay) return end_soon(parse_timeout(limits_, polls_));
  schedule(*delay);
}

void ParseCall::end_soon(std::optional<UpstreamFailure> f) {
  ending_ = true;
  outcome_ = std::move(f);
  if (outcome_) {
    QP_INFO("parse.failed")
        .kv("request_id", request_id_)
        .kv("polls", polls_)
        .kv("error", outcome_->message);
  }
  schedule(0);
}

}  // namespace qp::worker
