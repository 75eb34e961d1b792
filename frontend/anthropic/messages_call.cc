#include "frontend/anthropic/messages_call.h"

#include "common/log.h"
#include "frontend/anthropic/errors.h"
#include "frontend/chat_call.h"

namespace qp::frontend::anthropic {

MessagesCall::MessagesCall(uv_loop_t* loop, http::Exchange exchange, std::string request_id,
                           bool stream, MessageEvents events, uint64_t ping_interval_ms)
    : loop_(loop),
      exchange_(exchange),
      request_id_(std::move(request_id)),
      stream_(stream),
      events_(std::move(events)),
      ping_interval_ms_(ping_interval_ms) {}

void MessagesCall::start_stream() {
  started_ = true;
  auto h = api_headers(request_id_, "text/event-stream; charset=utf-8");
  h.push_back({"cache-control", "no-cache"});
  h.push_back({"x-accel-buffering", "no"});
  exchange_.start_stream(200, std::move(h));
  out_.clear();
  events_.append_start(&out_);
  uv_timer_init(loop_, ping_.get());
  ping_.get()->data = this;
  uv_timer_start(
      ping_.get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<MessagesCall*>(t->data)->on_ping();
      },
      ping_interval_ms_, ping_interval_ms_);
}

void MessagesCall::on_ping() {
  if (finished() || !started_) return;
  MessageEvents::append_ping(&out_);
  flush();
}

void MessagesCall::flush() {
  if (out_.empty()) return;
  exchange_.write(std::move(out_));
  out_.clear();
}

void MessagesCall::on_chunk(const protocol::JobChunk& chunk) {
  if (finished()) return;
  bool text = !chunk.content.empty() || !chunk.reasoning.empty();
  note_chunk(chunk, text || !chunk.tool_calls.empty());
  if (!text && chunk.tool_calls.empty()) return;
  if (!stream_) {
    events_.add(chunk);
    return;
  }
  if (!started_) start_stream();  // leaves message_start and ping in out_
  events_.append_chunk(&out_, chunk);
  flush();
}

void MessagesCall::on_done(const protocol::JobDone& done) {
  if (!finish()) return;
  ping_.reset();
  if (!stream_) {
    exchange_.respond(200, api_headers(request_id_, "application/json"),
                      events_.message_json(done));
  } else {
    if (!started_) start_stream();
    events_.append_done(&out_, done);
    flush();
    exchange_.end();
  }
  QP_INFO("request.done")
      .kv("request_id", request_id_)
      .kv("finish_reason", done.finish_reason)
      .kv("account", done.account)
      .kv("completion_tokens", done.usage.completion_tokens);
  report_done(done, done.finish_reason);
}

void MessagesCall::fail(const ApiError& error) {
  if (!finish()) return;
  ping_.reset();
  QP_WARN("request.failed")
      .kv("request_id", request_id_)
      .kv("code", code_name(error.code))
      .kv("message", error.message);
  report_failure(status_code(error), error_type_name(error), error);
  if (!started_) {
    auto h = api_headers(request_id_, "application/json");
    if (error.retry_after_s > 0) h.push_back({"retry-after", std::to_string(error.retry_after_s)});
    exchange_.respond(status_code(error), std::move(h), error_body(error));
    return;
  }
  MessageEvents::append_error(&out_, error);
  flush();
  exchange_.end();
}

}  // namespace qp::frontend::anthropic
