// One image or video generation job (the "<model>-image" / "<model>-video"
// variants, docs/api.md "Images and video") on the account's QwenClient:
//
//   image (t2i), per image (JobMedia.n, 1..kMaxImagesPerJob, one after the
//   other, each in its own chat):
//     POST chats/new (chat_type t2i) → POST completions (SSE) → the URL of
//     the image_gen phase → [b64_json: GET the URL, bounded by
//     kMaxMediaDownloadBytes]
//   image edit (image_edit, "<model>-image-edit", POST /v1/images/edits):
//     first, once per job, the user message's images are uploaded
//     (upload_call.h: STS + OSS); then per image as for t2i, with chat_type
//     image_edit and the uploaded images as `image` content items
//   video (t2v):
//     POST chats/new (chat_type t2v) → POST completions (stream:false) →
//     task id → GET /api/v1/tasks/status/<id> every poll interval until the
//     task ends (bounded by the job's deadline) → [b64_json: download]
//
// An upstream error that retry_policy.h retries in a new chat ("Internal
// error", a busy or missing chat) restarts the current item from chats/new,
// within the policy's bounds per job. Each finished item is forwarded at once as a markdown CHUNK
// (chat completions show it as content), and all of them are in the ChatResult's `media` at the
// end. Same handler contract as ChatCall (qwen_client.h): no callback after a terminal one or after
// cancel(). Thread: the loop's thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/protocol/messages.h"
#include "common/uv/handle.h"
#include "worker/http_request.h"
#include "worker/qwen_client.h"
#include "worker/retry_policy.h"
#include "worker/sse_parser.h"
#include "worker/upload_call.h"

namespace qp::worker {

class MediaCall final : private HttpRequest::Listener {
 public:
  // Interval between two task-status polls of a video.
  static constexpr uint64_t kDefaultPollMs = 2000;

  MediaCall(QwenClient* client, protocol::JobRequest job, ChatHandler* handler,
            uint64_t poll_ms = kDefaultPollMs);
  ~MediaCall();
  MediaCall(const MediaCall&) = delete;
  MediaCall& operator=(const MediaCall&) = delete;

  Status start();
  void cancel();
  const protocol::JobRequest& request() const { return job_; }

 private:
  enum class Phase { kIdle, kUpload, kNewChat, kImage, kTask, kPoll, kWait, kDownload, kEnded };

  HttpRequest::Listener* listener() { return this; }
  bool on_stream_data(std::string_view bytes) override;
  void on_complete(HttpResult result) override;
  Status begin(Phase phase, HttpRequestSpec spec);
  Status next_item();
  void on_uploaded(const UpstreamFailure* failure);
  void on_new_chat(HttpResult& result);
  void on_image_end(HttpResult& result);
  void on_task(HttpResult& result);
  void on_poll(HttpResult& result);
  void on_download(HttpResult& result);
  void poll_later();
  void poll_now();
  // The item's URL is known: download it (b64_json) or finish it.
  void got_url(std::string url);
  void item_done();
  // Restarts the current item in a new chat if `body` is a retryable error
  // and the policy allows it; false: fail.
  bool retry_item(std::string_view body);
  void fail(const UpstreamFailure& failure);
  void fail_status(const Status& s);
  void check(Status s) {
    if (!s.ok()) fail_status(s);
  }

  QwenClient* client_;
  ChatHandler* handler_;
  protocol::JobRequest job_;
  uint64_t poll_ms_;
  bool video_ = false;
  bool edit_ = false;
  std::string_view chat_type_;  // "t2i" | "t2v" | "image_edit"
  // Image edits: the upload of the message's images, and their content
  // items once uploaded.
  std::unique_ptr<UploadCall> upload_;
  std::vector<MediaItem> images_;
  std::string model_;   // upstream model id
  std::string prompt_;  // the last user message
  int32_t n_ = 1;
  bool b64_ = false;
  Phase phase_ = Phase::kIdle;
  std::unique_ptr<HttpRequest> current_;
  // Requests whose callbacks have ended, destroyed at the next callback
  // (a request may not be destroyed inside its own on_complete()).
  std::vector<std::unique_ptr<HttpRequest>> spent_;
  SseParser sse_;
  std::string chat_id_;
  std::string task_id_;
  std::string url_;  // the current item's URL
  bool finished_ = false;
  bool stream_error_ = false;
  std::string error_event_;
  std::vector<protocol::MediaItem> items_;
  RetryState retries_;
  uv::Timer poll_timer_;
};

}  // namespace qp::worker
