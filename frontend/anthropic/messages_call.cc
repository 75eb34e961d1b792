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
  start_sse(exchange_, request_id_);
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
  log_done(request_id_, done.finish_reason, done);
  report_done(done, done.finish_reason);
}

void MessagesCall::fail(const ApiError& error) {
  if (!finish()) return;
  ping_.reset();
  log_failed(request_id_, error);
  report_failure(status_code(error), error_type_name(error), error);
  if (!started_) {
    respond_error(exchange_, request_id_, status_code(error), error_body(error), error);
    return;
  }
  MessageEvents::append_error(&out_, error);
  flush();
  exchange_.end();
}

}  // namespace qp::frontend::anthropic
