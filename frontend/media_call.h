// The answers of the image and video routes (docs/api.md "Images and
// video"): the job is a media job (worker/media_call.h) whose DONE carries
// the generated items (JobDone.media); the content CHUNKs (markdown, for
// chat completions) are not used here.
//
//   ImagesCall: POST /v1/images/generations → one ImagesResponse
//     {"created","data":[{"url"}|{"b64_json"}]} at DONE, or an OpenAI error.
//   VideoCall, blocking (stream:true): an SSE response started at once,
//     `: keep-alive` comments every interval of silence while Qwen renders,
//     then `data: <Video object>` (completed, or failed with its error) and
//     `data: [DONE]`.
//   VideoCall, asynchronous: the HTTP answer (the in_progress Video object)
//     was written when the job was sent; DONE or ERROR updates the
//     VideoStore entry that GET /v1/videos/{id} reads.
#pragma once

#include <string>

#include <uv.h>

#include "common/http/server.h"
#include "common/uv/handle.h"
#include "frontend/api_call.h"
#include "frontend/video_store.h"

namespace qp::frontend {

class ImagesCall final : public ApiCall {
 public:
  ImagesCall(http::Exchange exchange, std::string request_id, int64_t created_unix_s);
  void on_chunk(const protocol::JobChunk& chunk) override;
  void on_done(const protocol::JobDone& done) override;
  void fail(const ApiError& error) override;

 private:
  http::Exchange exchange_;
  std::string request_id_;
  int64_t created_;
};

class VideoCall final : public ApiCall {
 public:
  // Blocking form: `exchange` is the client's, answered by this call.
  VideoCall(http::Exchange exchange, std::string request_id, VideoEntry entry);
  // Asynchronous form: the answer is `store`'s entry `entry.id` (the store
  // must outlive the call).
  VideoCall(VideoStore* store, std::string request_id, VideoEntry entry);

  // Blocking form: starts the SSE response and the keep-alive comments
  // (every interval_ms of silence; 0 = none). The loop must outlive the call.
  void start_stream(uv_loop_t* loop, uint64_t interval_ms);
  void on_chunk(const protocol::JobChunk& chunk) override;
  void on_done(const protocol::JobDone& done) override;
  void fail(const ApiError& error) override;

 private:
  void end_stream();
  void keep_alive();  // the SSE comment that keeps a blocking stream open

  http::Exchange exchange_;
  VideoStore* store_ = nullptr;
  std::string request_id_;
  VideoEntry entry_;
  uv::Timer keepalive_;
};

// "video_" + the request id: the id of a video.
std::string video_id(std::string_view request_id);

}  // namespace qp::frontend
