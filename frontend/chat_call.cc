#include "frontend/chat_call.h"

#include "common/log.h"
#include "frontend/openai/json_output.h"

namespace qp::frontend {

http::Headers api_headers(const std::string& request_id, const char* content_type) {
  return {{"content-type", content_type}, {"x-request-id", request_id}};
}

ChatCall::ChatCall(http::Exchange exchange, std::string request_id, std::string model, bool stream,
                   bool include_usage, int64_t created_unix_s, bool want_json)
    : exchange_(exchange),
      request_id_(std::move(request_id)),
      stream_(stream),
      include_usage_(include_usage),
      want_json_(want_json),
      json_("chatcmpl-" + request_id_, model, created_unix_s) {
  // A non-streamed JSON answer the model wrapped in a Markdown fence is
  // returned without the fence (streamed text cannot be taken back).
  message_.set_unfenced_json(want_json_ && !stream_);
}

void ChatCall::start_stream() {
  started_ = true;
  start_sse(exchange_, request_id_);
  out_.clear();
  json_.append_role_event(&out_);
}

void ChatCall::start_keepalive(uv_loop_t* loop, uint64_t interval_ms) {
  if (!stream_ || interval_ms == 0 || finished()) return;
  if (uv_timer_init(loop, keepalive_.get()) != 0) return;
  keepalive_.get()->data = this;
  uv_timer_start(
      keepalive_.get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<ChatCall*>(t->data)->on_keepalive();
      },
      interval_ms, interval_ms);
}

void ChatCall::on_keepalive() {
  if (finished()) return;
  if (wrote_) {
    wrote_ = false;
    return;
  }
  if (!started_) start_stream();  // leaves the role event in out_
  out_.append(": keep-alive\n\n");
  exchange_.write(std::move(out_));
  out_.clear();
}

void ChatCall::on_chunk(const protocol::JobChunk& chunk) {
  if (finished()) return;
  bool text = !chunk.content.empty() || !chunk.reasoning.empty();
  note_chunk(chunk, text || !chunk.tool_calls.empty());
  if (!text && chunk.tool_calls.empty()) return;
  if (!stream_) {
    message_.add(chunk);
    reasoning_.append(chunk.reasoning);
    return;
  }
  if (!started_) start_stream();  // leaves the role event in out_
  wrote_ = true;
  if (text) {
    if (want_json_) message_.add_content(chunk.content);
    content_chars_ += count_code_points(chunk.content);
    json_.append_delta_event(&out_, chunk.content, chunk.reasoning);
  }
  for (const auto& d : chunk.tool_calls) json_.append_tool_call_event(&out_, d);
  exchange_.write(std::move(out_));
  out_.clear();
}

void ChatCall::on_done(const protocol::JobDone& done) {
  if (!finish()) return;
  keepalive_.reset();
  const std::string& reason = done.finish_reason.empty() ? std::string("stop") : done.finish_reason;
  int json_valid = -1;
  // Non-streaming JSON mode: without a fence that hid the JSON.
  std::string_view content = message_.content();
  if (want_json_) {
    json_valid = parses_as_json(content) ? 1 : 0;
    QP_INFO("request.json_output").kv("request_id", request_id_).kv("valid", json_valid == 1);
  }
  if (!stream_) {
    exchange_.respond(
        200, api_headers(request_id_, "application/json"),
        json_.completion(content, reasoning_, reason, done.usage, done.chat_id, json_valid,
                         message_.tool_calls(), done.sources, done.media));
  } else {
    if (!started_) start_stream();
    json_.append_finish_event(&out_, reason, json_valid, done.chat_id, done.sources, content_chars_,
                              done.media);
    if (include_usage_) json_.append_usage_event(&out_, done.usage);
    CompletionJson::append_done_event(&out_);
    exchange_.write(std::move(out_));
    out_.clear();
    exchange_.end();
  }
  log_done(request_id_, reason, done);
  report_done(done, reason);
}

void ChatCall::fail(const ApiError& error) {
  if (!finish()) return;
  keepalive_.reset();
  log_failed(request_id_, error);
  report_failure(http_status(error), error_type(error), error);
  if (!started_) {
    respond_error(exchange_, request_id_, http_status(error), error_json(error), error);
    return;
  }
  // Mid-stream: an error event, then close. Never a fake finish_reason.
  out_.append("data: ");
  append_error_object(&out_, error);
  out_.append("\n\n");
  exchange_.write(std::move(out_));
  out_.clear();
  exchange_.end();
}

}  // namespace qp::frontend
