#include "frontend/media_call.h"

#include "common/json/writer.h"
#include "common/log.h"
#include "common/uv/callback.h"
#include "common/uv/handle.h"
#include "frontend/chat_call.h"

namespace qp::frontend {

std::string video_id(std::string_view request_id) { return "video_" + std::string(request_id); }

ImagesCall::ImagesCall(http::Exchange exchange, std::string request_id, int64_t created_unix_s)
    : exchange_(exchange), request_id_(std::move(request_id)), created_(created_unix_s) {}

void ImagesCall::on_chunk(const protocol::JobChunk& chunk) {
  note_chunk(chunk, !chunk.content.empty());
}

void ImagesCall::on_done(const protocol::JobDone& done) {
  if (done.media.empty()) {
    return fail(ApiError{Code::kUpstream, "Qwen finished without an image.", {}, "no_image", 0});
  }
  if (!finish()) return;
  std::string body;
  json::Writer w(&body);
  w.begin_object().field("created", created_).key("data").begin_array();
  for (const auto& m : done.media) {
    w.begin_object();
    if (!m.b64_json.empty()) {
      w.field("b64_json", m.b64_json);
    } else {
      w.field("url", m.url);
    }
    w.end_object();
  }
  w.end_array().end_object();
  exchange_.respond(200, api_headers(request_id_, "application/json"), std::move(body));
  log_done(request_id_, "stop", done);
  report_done(done, "stop");
}

void ImagesCall::fail(const ApiError& error) {
  if (!finish()) return;
  log_failed(request_id_, error);
  report_failure(http_status(error), error_type(error), error);
  respond_error(exchange_, request_id_, http_status(error), error_json(error), error);
}

VideoCall::VideoCall(http::Exchange exchange, std::string request_id, VideoEntry entry)
    : exchange_(exchange), request_id_(std::move(request_id)), entry_(std::move(entry)) {}

VideoCall::VideoCall(VideoStore* store, std::string request_id, VideoEntry entry)
    : store_(store), request_id_(std::move(request_id)), entry_(std::move(entry)) {}

void VideoCall::start_stream(uv_loop_t* loop, uint64_t interval_ms) {
  start_sse(exchange_, request_id_);
  exchange_.write("data: " + video_json(entry_) + "\n\n");
  if (interval_ms == 0 || uv_timer_init(loop, keepalive_.get()) != 0) return;
  keepalive_.get()->data = this;
  uv_timer_start(keepalive_.get(), uv::method<&VideoCall::keep_alive>, interval_ms, interval_ms);
}

void VideoCall::keep_alive() {
  if (!finished()) exchange_.write(": keep-alive\n\n");
}

void VideoCall::on_chunk(const protocol::JobChunk& chunk) {
  note_chunk(chunk, !chunk.content.empty());
}

void VideoCall::end_stream() {
  keepalive_.reset();
  std::string out = "data: " + video_json(entry_) + "\n\ndata: [DONE]\n\n";
  exchange_.write(std::move(out));
  exchange_.end();
}

void VideoCall::on_done(const protocol::JobDone& done) {
  if (done.media.empty()) {
    return fail(ApiError{Code::kUpstream, "Qwen finished without a video.", {}, "no_video", 0});
  }
  if (!finish()) return;
  int64_t now = uv::now_unix_ms();
  entry_.status = "completed";
  entry_.url = done.media.front().url;
  entry_.completed_unix_ms = now;
  if (store_ != nullptr) {
    store_->complete(entry_.id, entry_.url, now);
  } else {
    end_stream();
  }
  log_done(request_id_, "stop", done);
  report_done(done, "stop");
}

void VideoCall::fail(const ApiError& error) {
  if (!finish()) return;
  log_failed(request_id_, error);
  report_failure(http_status(error), error_type(error), error);
  int64_t now = uv::now_unix_ms();
  entry_.status = "failed";
  entry_.error_code = error.error_code.empty() ? std::string(error_type(error)) : error.error_code;
  entry_.error_message = error.message;
  entry_.completed_unix_ms = now;
  if (store_ != nullptr) {
    store_->fail(entry_.id, entry_.error_code, entry_.error_message, now);
  } else {
    end_stream();
  }
}

}  // namespace qp::frontend
