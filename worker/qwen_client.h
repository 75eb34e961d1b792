// The worker's client of the Qwen web API for one account: builds the
// requests (qwen_requests.h), runs them on the CurlMulti and routes the
// answers through the SSE parser, the event interpreter and the error
// classification.
//
//   ChatCall:   POST /api/v2/chats/new → chat_id, then
//               POST /api/v2/chat/completions?chat_id= (SSE), each answer
//               delta forwarded to the ChatHandler as it arrives.
//   ModelsCall: GET /api/models, falling back to /api/v2/models/.
//   stop_generation(): fire-and-forget POST …/completions/stop.
//
// Handlers are called from the loop (some from inside libcurl's write
// callback): they must not destroy the call synchronously; hand it to
// DeferredDelete. After a terminal callback (done/error/models) no other
// callback follows; after cancel() none at all.
// Thread: the loop's thread only.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/protocol/messages.h"
#include "worker/curl_multi.h"
#include "worker/deferred_delete.h"
#include "worker/http_request.h"
#include "worker/qwen_events.h"
#include "worker/qwen_requests.h"
#include "worker/retry_policy.h"
#include "worker/sse_parser.h"
#include "worker/stop_filter.h"
#include "worker/tools/tool_plan.h"
#include "worker/tools/tool_stream.h"
#include "worker/upload_call.h"
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

class ChatCall final : private HttpRequest::Listener {
 public:
  // Continues job.resume.chat_id when set (sending only the new messages),
  // else starts a new chat (a pre-warmed one if the client's ChatPool has
  // one) with the whole history.
  ChatCall(QwenClient* client, protocol::JobRequest job, ChatHandler* handler);
  ~ChatCall();
  ChatCall(const ChatCall&) = delete;
  ChatCall& operator=(const ChatCall&) = delete;

  // Starts with chats/new. An error here means nothing was started.
  // Retryable upstream errors (retry_policy.h) are retried here, invisibly
  // to the handler, as long as no delta was handed to it.
  Status start();
  // Aborts the upstream transfer now and, once a generation was started,
  // asks the upstream to stop it. No handler callback follows.
  void cancel();
  const std::string& chat_id() const { return chat_id_; }
  const protocol::JobRequest& request() const { return job_; }
  bool continuing() const { return continuing_; }
  const RetryState& retries() const { return retries_; }

 private:
  enum class Phase { kIdle, kNewChat, kStreaming, kRetryWait, kEnded };

  HttpRequest::Listener* listener() { return this; }

  bool on_stream_data(std::string_view bytes) override;
  void on_complete(HttpResult result) override;
  void on_new_chat(HttpResult result);
  void on_stream_end(HttpResult result);
  Status start_new_chat();
  void start_completion();
  Status begin_completion();
  // The images and files the message carries (new chat: every message's;
  // continuation: the new messages'), uploaded once per call before the
  // first completion (worker/upload_call.h). False: none to upload, or
  // done; true: the upload runs and calls begin_completion() when done.
  bool upload_first(Status* s);
  void on_uploaded(const UpstreamFailure* failure);
  // The whole history as one message (new chats, replays); past
  // upstream.long_input_bytes, the history goes into context_file_ and the
  // message keeps the latest turn (worker/long_input.h).
  std::string replay_prompt();
  // Schedules a retry for `cause` if the policy allows one; false: fail.
  bool retry(RetryCause cause, const UpstreamFailure& failure);
  void on_retry_timer();
  bool drain();  // false once the call reached a terminal state
  void flush();
  void finish(const char* finish_reason = "stop");
  // The client's stop sequence or max_tokens ended the answer: done, and the
  // upstream generation is stopped. Returns false (for drain()).
  bool end_early(const char* finish_reason);
  // `transport`: the transfer itself failed (for the error-class metric).
  void fail(const UpstreamFailure& failure, bool transport = false);
  void release_chat();

  QwenClient* client_;
  ChatHandler* handler_;
  protocol::JobRequest job_;
  std::string request_id_;
  ModelVariant variant_;
  std::string prompt_;
  std::string chat_id_;
  std::string parent_id_;    // empty: null (first message of the chat)
  bool continuing_ = false;  // chat_id_ is the conversation's indexed chat
  bool cut_ = false;         // end_early(): the client saw less than upstream holds
  std::string answer_;       // every content delta forwarded, for the session key
  // Tool calling (worker/tools, docs/tools.md): the job's plan, the parser of
  // the current attempt, and the calls returned (OpenAI JSON, for the key).
  bool tools_on() const { return plan_.mode != tools::ToolMode::kOff; }
  void feed_tools(std::string_view text);
  void forward_tool_output();
  bool end_tool_answer();
  std::string compose(std::string body, bool with_tools) const;
  tools::ToolPlan plan_;
  std::unique_ptr<tools::ToolStream> tstream_;
  tools::StreamOutput tout_;
  std::string tool_calls_json_;
  int tool_attempt_ = 0;
  bool tool_stopped_ = false;  // the stream asked to stop the upstream after a call
  Phase phase_ = Phase::kIdle;
  std::unique_ptr<HttpRequest> new_chat_;
  std::unique_ptr<HttpRequest> completion_;
  std::unique_ptr<UploadCall> upload_;
  bool uploaded_ = false;  // media_ holds the message's content items
  std::vector<MediaItem> media_;
  protocol::Attachment context_file_;  // long inputs: the history as a text file; empty: none
  SseParser sse_;
  QwenEventInterpreter events_;
  protocol::JobChunk chunk_;  // pending deltas, reused
  RetryState retries_;
  bool forwarded_ = false;  // a delta reached the handler: no more retries
  bool retry_new_chat_ = false;
  uv::Timer retry_timer_;
  // OpenAI `stop` and `max_tokens` (JobRequest.stop / .max_tokens).
  StopFilter stop_;
  std::string raw_;  // one event's answer text before the stop filter, reused
  int64_t max_tokens_ = 0;
  bool limit_hit_ = false;  // output_tokens reached max_tokens_
  StreamUsage limit_usage_;
};

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

  // The request for endpoint `e`, with the account's auth and browser headers.
  HttpRequestSpec make_spec(Endpoint e, std::string_view chat_id, std::string body) const;
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
  class StopCall;
  void retire(StopCall* call);
  void background(Endpoint e, const std::string& chat_id);
  void background_soon(Endpoint e, const std::string& chat_id);

  CurlMulti* multi_;
  DeferredDelete* deferred_;
  const UpstreamConfig& upstream_;
  AccountConfig account_;
  std::string jwt_;  // the session token (account_.token, else its `token` cookie); secret
  class ChatPool* pool_ = nullptr;
  class WorkerMetrics* metrics_ = nullptr;
  class UpstreamRecorder* recorder_ = nullptr;
  std::list<std::unique_ptr<StopCall>> stops_;
  uv::Timer soon_timer_;  // starts the stops of stop_generation_soon()
  std::vector<std::pair<Endpoint, std::string>> soon_;  // their endpoints and chat ids
};

}  // namespace qp::worker
