#include "frontend/responses/responses_call.h"

#include "common/log.h"
#include "common/uv/handle.h"
#include "frontend/chat_call.h"

namespace qp::frontend::responses {

ResponsesCall::ResponsesCall(http::Exchange exchange, std::string request_id, bool stream,
                             ResponseEvents events, ResponseStore* store,
                             std::string conversation_items)
    : exchange_(exchange),
      request_id_(std::move(request_id)),
      stream_(stream),
      events_(std::move(events)),
      store_(store),
      conversation_items_(std::move(conversation_items)) {}

void ResponsesCall::start_stream() {
  started_ = true;
  start_sse(exchange_, request_id_);
  out_.clear();
  events_.append_start(&out_);
}

void ResponsesCall::flush() {
  if (out_.empty()) return;
  wrote_ = true;
  exchange_.write(std::move(out_));
  out_.clear();
}

void ResponsesCall::start_keepalive(uv_loop_t* loop, uint64_t interval_ms) {
  if (!stream_ || interval_ms == 0 || finished()) return;
  if (uv_timer_init(loop, keepalive_.get()) != 0) return;
  keepalive_.get()->data = this;
  uv_timer_start(
      keepalive_.get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<ResponsesCall*>(t->data)->on_keepalive();
      },
      interval_ms, interval_ms);
}

void ResponsesCall::on_keepalive() {
  if (finished()) return;
  if (wrote_) {
    wrote_ = false;
    return;
  }
  if (!started_) start_stream();  // leaves response.created and .in_progress in out_
  out_.append(": keep-alive\n\n");
  exchange_.write(std::move(out_));
  out_.clear();
}

void ResponsesCall::on_chunk(const protocol::JobChunk& chunk) {
  if (finished()) return;
  bool text = !chunk.content.empty() || !chunk.reasoning.empty();
  note_chunk(chunk, text || !chunk.tool_calls.empty());
  if (!text && chunk.tool_calls.empty()) return;
  if (!stream_) {
    events_.add(chunk);
    return;
  }
  if (!started_) start_stream();  // leaves response.created and .in_progress in out_
  events_.append_chunk(&out_, chunk);
  flush();
}

void ResponsesCall::on_done(const protocol::JobDone& done) {
  if (!finish()) return;
  keepalive_.reset();
  events_.set_completed_at(uv::now_unix_ms() / 1000);
  std::string body;
  if (!stream_) {
    events_.end_answer();
    body = events_.response_json(done);
  } else {
    if (!started_) start_stream();
    events_.append_done(&out_, done);
  }
  if (store_ != nullptr) {
    // The stored object is the final Response (for a stream: the one in
    // response.completed, rendered once more).
    std::string response = stream_ ? events_.response_json(done) : body;
    std::string items = join_arrays({conversation_items_, events_.output_items()});
    store_->put(events_.echo().id, response, items, uv::now_unix_ms());
  }
  if (!stream_) {
    exchange_.respond(200, api_headers(request_id_, "application/json"), std::move(body));
  } else {
    flush();
    exchange_.end();
  }
  log_done(request_id_, done.finish_reason, done);
  report_done(done, done.finish_reason);
}

void ResponsesCall::fail(const ApiError& error) {
  if (!finish()) return;
  keepalive_.reset();
  log_failed(request_id_, error);
  report_failure(http_status(error), error_type(error), error);
  if (!started_) {
    respond_error(exchange_, request_id_, http_status(error), error_json(error), error);
    return;
  }
  events_.append_failed(&out_, error);
  flush();
  exchange_.end();
}

}  // namespace qp::frontend::responses
