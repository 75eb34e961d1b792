// One chat job against the Qwen web API (for one account's QwenClient):
//
//   POST /api/v2/chats/new → chat_id (or a pre-warmed chat, or the
//   conversation's chat when continuing), the message's uploads
//   (worker/upload_call.h), then POST /api/v2/chat/completions?chat_id=
//   (SSE), whose body goes through the AnswerPipeline
//   (worker/answer_pipeline.h: events → max_tokens → stop sequences → tool
//   calls) to the ChatHandler.
//
// ChatCall holds only the I/O (requests, timers, stop/delete requests) and
// the retry decisions (worker/retry_policy.h); what the answer is, is the
// pipeline's. A retry reuses the pipeline (begin_attempt() per attempt).
//
// Handlers are called from the loop (some from inside libcurl's write
// callback): they must not destroy the call synchronously; hand it to
// DeferredDelete. After a terminal callback (done/error) no other callback
// follows; after cancel() none at all.
// Thread: the loop's thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/protocol/messages.h"
#include "common/uv/handle.h"
#include "worker/answer_pipeline.h"
#include "worker/http_request.h"
#include "worker/qwen_client.h"
#include "worker/qwen_requests.h"
#include "worker/retry_policy.h"
#include "worker/toolcalls/tool_plan.h"
#include "worker/upload_call.h"

namespace qp::worker {

class ChatCall final : private HttpRequest::Listener, private AnswerSink {
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

  // HttpRequest::Listener
  bool on_stream_data(std::string_view bytes) override;
  void on_complete(HttpResult result) override;
  // AnswerSink
  void on_answer_chunk(protocol::JobChunk& chunk) override;
  void on_tool_warning(std::string_view detail) override;

  void on_new_chat(HttpResult result);
  void on_stream_end(HttpResult result);
  // Acts on what the pipeline says; false once the call reached a terminal state.
  bool on_step(AnswerStep step);
  Status start_new_chat();
  void start_completion();
  Status begin_completion();
  // The images and files the message carries (new chat: every message's;
  // continuation: the new messages'), uploaded once per call before the
  // first completion (worker/upload_call.h). False: none to upload, or
  // done; true: the upload runs and calls begin_completion() when done.
  bool upload_first(Status* s);
  void on_uploaded(const UpstreamFailure* failure);
  // The prompt plus the tool section / XML reminder and response_format.
  std::string compose(std::string body, bool with_tools) const;
  // The whole history as one message (new chats, replays); past
  // upstream.long_input_bytes, the history goes into context_file_ and the
  // message keeps the latest turn (worker/long_input.h).
  std::string replay_prompt();
  // Schedules a retry for `cause` if the policy allows one; false: fail.
  bool retry(RetryCause cause, const UpstreamFailure& failure);
  // The tool parser wants the request asked again with the firmer instruction.
  void retry_tools();
  void arm_retry_timer(uint64_t delay_ms);
  void on_retry_timer();
  void finish(const char* finish_reason = "stop");
  // The client's stop sequence or max_tokens ended the answer: done, and the
  // upstream generation is stopped.
  void end_early(const char* finish_reason);
  // `transport`: the transfer itself failed (for the error-class metric).
  void fail(const UpstreamFailure& failure, bool transport = false);
  void release_chat();

  QwenClient* client_;
  ChatHandler* handler_;
  protocol::JobRequest job_;
  std::string request_id_;
  ModelVariant variant_;
  toolcalls::ToolPlan plan_;  // tool calling (worker/toolcalls, docs/tools.md)
  AnswerPipeline pipeline_;
  std::string prompt_;
  std::string chat_id_;
  std::string parent_id_;    // empty: null (first message of the chat)
  bool continuing_ = false;  // chat_id_ is the conversation's indexed chat
  bool cut_ = false;         // end_early(): the client saw less than upstream holds
  int tool_attempt_ = 0;
  Phase phase_ = Phase::kIdle;
  std::unique_ptr<HttpRequest> new_chat_;
  std::unique_ptr<HttpRequest> completion_;
  std::unique_ptr<UploadCall> upload_;
  bool uploaded_ = false;  // media_ holds the message's content items
  std::vector<MediaItem> media_;
  protocol::Attachment context_file_;  // long inputs: the history as a text file; empty: none
  RetryState retries_;
  bool retry_new_chat_ = false;
  uv::Timer retry_timer_;
};

}  // namespace qp::worker
