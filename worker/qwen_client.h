// The worker's client of the Qwen web API for one account: the account's
// requests (qwen_requests.h: URL, auth and browser headers), the calls'
// result and handler types, and the background requests.
//
//   ChatCall (chat_call.h): one chat job, its answer through the
//               AnswerPipeline (answer_pipeline.h).
//   ModelsCall: GET /api/models, falling back to /api/v2/models/.
//   stop_generation(): fire-and-forget POST …/completions/stop.
//
// Handlers are called from the loop (some from inside libcurl's write
// callback): they must not destroy the call synchronously; hand it to
// DeferredDelete. After a terminal callback (done/error/models) no other
// callback follows; after cancel() none at all.
// Thread: the loop's thread only.
#pragma once

#include <array>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/protocol/messages.h"
#include "common/uv/handle.h"
#include "worker/curl_multi.h"
#include "worker/deferred_delete.h"
#include "worker/http_request.h"
#include "worker/qwen_events.h"
#include "worker/qwen_requests.h"
#include "worker/upstream_errors.h"

namespace qp::worker {

struct ChatResult {
  StreamUsage usage;
  std::string chat_id;
  std::string response_id;  // the reply's upstream id: the next turn's parent_id
  // Key of the request's history plus this reply (conversation/history_key.h);
  // empty when the turn must not be continued natively (the answer was cut
  // short, so the upstream chat holds text the client never saw).
  std::string session_key;
  // "stop" (the answer finished or hit a client stop sequence) or "length"
  // (max_tokens reached while the model went on).
  const char* finish_reason = "stop";
  // The client stop sequence that ended the answer; empty if none did.
  std::string stop_sequence;
  // Web search sources (bounded by the event interpreter).
  std::vector<protocol::SearchSource> sources;
  // Generated images / videos (MediaCall, media_call.h).
  std::vector<protocol::MediaItem> media;
};

class ChatHandler {
 public:
  // chunk.content and/or chunk.reasoning hold new text (several upstream
  // deltas may be coalesced). The call clears them after this returns.
  virtual void on_chat_delta(protocol::JobChunk& chunk) = 0;
  virtual void on_chat_done(const ChatResult& result) = 0;
  virtual void on_chat_error(const UpstreamFailure& failure) = 0;

 protected:
  ~ChatHandler() = default;
};

class ModelsHandler {
 public:
  virtual void on_models(std::vector<protocol::ModelInfo> models) = 0;
  virtual void on_models_error(const UpstreamFailure& failure) = 0;

 protected:
  ~ModelsHandler() = default;
};

class QwenClient;

class ModelsCall final : private HttpRequest::Listener {
 public:
  ModelsCall(QwenClient* client, ModelsHandler* handler);
  ~ModelsCall();
  ModelsCall(const ModelsCall&) = delete;
  ModelsCall& operator=(const ModelsCall&) = delete;

  Status start();
  void cancel();

 private:
  HttpRequest::Listener* listener() { return this; }
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult result) override;
  void finish(const HttpResult& result);

  QwenClient* client_;
  ModelsHandler* handler_;
  std::unique_ptr<HttpRequest> primary_;
  std::unique_ptr<HttpRequest> fallback_;
  bool ended_ = false;
};

class QwenClient {
 public:
  // All pointers and `upstream` must outlive the client. The credentials
  // are copied (set_credentials() replaces them).
  QwenClient(CurlMulti* multi, DeferredDelete* deferred, const UpstreamConfig& upstream,
             AccountConfig account);
  ~QwenClient();
  QwenClient(const QwenClient&) = delete;
  QwenClient& operator=(const QwenClient&) = delete;

  // Fire-and-forget POST /api/v2/chat/completions/stop?chat_id=.
  void stop_generation(const std::string& chat_id);
  // The same, safe inside a libcurl callback (where curl refuses to add a
  // transfer): the request starts on the next loop turn.
  void stop_generation_soon(const std::string& chat_id);
  // Fire-and-forget DELETE /api/v2/chats/<chat_id>, on the next loop turn
  // (safe inside libcurl callbacks). Used when upstream.delete_chats is set.
  void delete_chat_soon(const std::string& chat_id);
  bool delete_chats() const { return upstream_.delete_chats; }
  // First-byte and idle bound of long-running chat types (deep research).
  uint64_t long_idle_timeout_ms() const { return upstream_.long_idle_timeout_ms; }
  // Uploads (worker/upload_call.h): the OSS override and the bounds.
  const std::string& oss_endpoint() const { return upstream_.oss_endpoint; }
  uint64_t upload_timeout_ms() const { return upstream_.upload_timeout_ms; }
  uint64_t connect_timeout_ms() const { return upstream_.connect_timeout_ms; }
  uint64_t long_input_bytes() const { return upstream_.long_input_bytes; }
  // The document parse step (worker/parse_call.h): upstream.parse_* keys.
  const UpstreamConfig& upstream_config() const { return upstream_; }
  // Aborts pending background requests (shutdown).
  void abort_background();
  size_t background_requests() const { return stops_.size(); }

  // The request for endpoint `e`, with the account's auth and browser
  // headers as a whole list in spec.headers (for callers that edit it).
  HttpRequestSpec make_spec(Endpoint e, std::string_view chat_id, std::string body) const;
  // The same request, its fixed header lines shared (spec.shared_headers:
  // formatted once per endpoint and credential version) and only the
  // per-request lines in spec.headers. The hot path: chats, stops, models.
  HttpRequestSpec make_lean_spec(Endpoint e, std::string_view chat_id, std::string body) const;
  CurlMulti* multi() const { return multi_; }
  // Pre-created chats (may be null). Not owned.
  void set_chat_pool(class ChatPool* pool) { pool_ = pool; }
  class ChatPool* chat_pool() const {
    return pool_;
  }
  // Upstream call, error, retry and pool counters (may be null). Not owned.
  void set_metrics(class WorkerMetrics* m) { metrics_ = m; }
  class WorkerMetrics* metrics() const {
    return metrics_;
  }
  // Records every request made from now on (upstream_recorder.h; may be
  // null). Not owned; must outlive every request.
  void set_recorder(class UpstreamRecorder* r);
  const AccountConfig& account() const { return account_; }
  // New credentials for the requests made from now on (a rotation or a
  // sign-in); requests already made keep the ones they were built with.
  void set_credentials(const AccountConfig& account);

 private:
  void run_soon();  // the calls stop_generation_soon() queued
  class StopCall;
  void retire(StopCall* call);
  void background(Endpoint e, const std::string& chat_id);
  void background_soon(Endpoint e, const std::string& chat_id);
  // The spec without its headers; *t: the endpoint's header template.
  HttpRequestSpec base_spec(Endpoint e, std::string_view chat_id, std::string body,
                            const HeaderTemplate** t) const;
  std::vector<std::string> request_lines(const HeaderTemplate& t, std::string_view chat_id) const;

  CurlMulti* multi_;
  DeferredDelete* deferred_;
  const UpstreamConfig& upstream_;
  AccountConfig account_;
  std::string jwt_;  // the session token (account_.token, else its `token` cookie); secret
  // Per endpoint, the account's header lines (built on first use, dropped
  // by set_credentials(); requests in flight keep theirs).
  mutable std::array<std::optional<HeaderTemplate>, kEndpointCount> headers_;
  mutable int64_t timezone_at_s_ = -1;  // js_date_string() of this second is timezone_
  mutable std::string timezone_;
  class ChatPool* pool_ = nullptr;
  class WorkerMetrics* metrics_ = nullptr;
  class UpstreamRecorder* recorder_ = nullptr;
  std::list<std::unique_ptr<StopCall>> stops_;
  uv::Timer soon_timer_;  // starts the stops of stop_generation_soon()
  std::vector<std::pair<Endpoint, std::string>> soon_;  // their endpoints and chat ids
};

}  // namespace qp::worker
