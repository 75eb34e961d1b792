// Uploads a chat message's images and files for one ChatCall (docs/upstream.md,
// "Images and files in"; worker/upload_requests.h has the requests): per
// attachment with bytes, POST getstsToken, then the signed PUT to OSS straight
// from the job's bytes (HttpRequestSpec::upload: a view, no copy); an
// attachment with an http(s) URL passes through without a request. A document
// (any kind but "image") then goes through the parse step (worker/parse_call.h)
// unless upstream.parse_documents is off. The result is one MediaItem per
// attachment, in order, for the completion body.
//
// A failed step is retried (retry_policy.h, kUploadFailed) from a new STS
// token unless the failure is an account state (rate limit, WAF,
// credentials), which a retry would not change. A failed parse step is not
// retried (worker/parse_call.h).
//
// Callbacks: `done` runs from the loop (never inside a libcurl callback),
// once, unless cancel() came first; the owner may not destroy the
// UploadCall inside it. Thread: the loop's thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol/messages.h"
#include "common/uv/handle.h"
#include "worker/http_request.h"
#include "worker/parse_call.h"
#include "worker/qwen_requests.h"
#include "worker/retry_policy.h"
#include "worker/upload_requests.h"
#include "worker/upstream_errors.h"

namespace qp::worker {

class QwenClient;

class UploadCall final : private HttpRequest::Listener {
 public:
  // failure == nullptr: every item is uploaded (media() holds them).
  using Done = std::function<void(const UpstreamFailure* failure)>;
  // REQUIRES: the attachments outlive the call (they live in the job).
  UploadCall(QwenClient* client, std::string request_id,
             std::vector<const protocol::Attachment*> items, Done done);
  ~UploadCall();
  UploadCall(const UploadCall&) = delete;
  UploadCall& operator=(const UploadCall&) = delete;

  Status start();
  void cancel();
  const std::vector<MediaItem>& media() const { return media_; }
  const RetryState& retries() const { return retries_; }

 private:
  enum class Step { kIdle, kSts, kPut, kParse, kEnded };
  HttpRequest::Listener* listener() { return this; }
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult result) override;
  void on_sts(HttpResult result);
  void on_put(HttpResult result);
  void on_parsed(const UpstreamFailure* failure);
  void item_done();  // the item's URL goes into media_; the next item
  // Runs the next step from the timer (we may be inside a transfer's
  // callback, where it must not be destroyed).
  void schedule(uint64_t delay_ms);
  void on_timer();
  void advance();  // starts the next item's STS request, or finishes
  void start_put();
  void start_parse();
  void failed(const UpstreamFailure& f);
  void finish(const UpstreamFailure* f);

  QwenClient* client_;
  std::string request_id_;
  std::vector<const protocol::Attachment*> items_;
  Done done_;
  std::vector<MediaItem> media_;
  size_t next_ = 0;  // index of the item being uploaded
  Step step_ = Step::kIdle;
  bool put_next_ = false;  // the timer starts the PUT (else the next STS)
  StsGrant grant_;         // holds secrets: never logged
  std::unique_ptr<HttpRequest> request_;
  std::unique_ptr<ParseCall> parse_;              // the parse step of the current document
  std::optional<UpstreamFailure> parse_failure_;  // reported from the timer
  uv::Timer timer_;
  RetryState retries_;
};

}  // namespace qp::worker
