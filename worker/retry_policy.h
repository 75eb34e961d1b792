// Which upstream failures the worker retries, how often and after which delay
// (docs/upstream.md, "Upstream behaviour → client action → client-visible
// result"). Pure: no I/O; ChatCall does the I/O.
//
// A retry is only allowed while nothing of the answer has been forwarded
// to the broker (no CHUNK sent for the job), so it is invisible to the
// client. Once a CHUNK left, every failure ends the job with ERROR.
//
//   Bad_Request "Internal error" (before the stream, or as the stream's
//   first event)                → once, in a new chat;
//   "The chat is in progress!"  → stop the generation, wait 200 ms, 400 ms,
//                                 800 ms, retry in the same chat (3 times);
//   "…parent_id … is not exist" → once, in a new chat (parent null);
//   "…chat… not exist" (a continued chat that is gone or belongs to another
//   account)                    → once, in a new chat;
//   an empty answer (the stream finished without any content, reasoning or
//   tool call)                  → once, in a new chat;
//   an upload (STS token or OSS PUT) that failed for a reason other than
//   the account's state         → twice, after 500 ms and 1 s, the upload
//                                 again from a new STS token.
// A new chat after a continuation replays the whole history. Everything else
// (rate limits, WAF, auth, timeouts, drops) is not retried: those are account
// or transport states a second try would not change.
#pragma once

#include <cstdint>
#include <string_view>

namespace qp::worker {

enum class RetryCause {
  kNone,
  kInternalError,
  kChatInProgress,
  kParentMissing,
  kChatMissing,
  kEmptyAnswer,   // not read from a body: ChatCall sees the answer end with nothing in it
  kUploadFailed,  // not read from a body: UploadCall's STS or PUT step failed
};

// Reads the error `code`/`details` of an upstream error body (the JSON
// envelope `{success:false,data:{code,details}}`, `{code,detail}`,
// `{error:{code,message}}` or a stream error event) and names the
// retryable cause, or kNone (also for anything that is not JSON).
RetryCause retry_cause(std::string_view body);

enum class RetryAction {
  kFail,          // give up: report the failure
  kNewChat,       // start again from chats/new (parent null)
  kStopAndRetry,  // POST …/completions/stop, then retry in the same chat
  kRetryUpload,   // the upload again, from a new STS token
};

struct RetryDecision {
  RetryAction action = RetryAction::kFail;
  uint64_t delay_ms = 0;  // wait before the retry
};

// Retries used so far by one job, per cause.
struct RetryState {
  int internal_error = 0;
  int in_progress = 0;
  int parent_missing = 0;
  int chat_missing = 0;
  int empty_answer = 0;
  int upload = 0;
  int total() const {
    return internal_error + in_progress + parent_missing + chat_missing + empty_answer + upload;
  }
};

inline constexpr int kMaxInternalErrorRetries = 1;
inline constexpr int kMaxInProgressRetries = 3;
inline constexpr int kMaxParentMissingRetries = 1;
inline constexpr int kMaxChatMissingRetries = 1;
inline constexpr int kMaxEmptyAnswerRetries = 1;
inline constexpr int kMaxUploadRetries = 2;
inline constexpr uint64_t kUploadBaseDelayMs = 500;      // doubled per retry
inline constexpr uint64_t kInProgressBaseDelayMs = 200;  // doubled per retry
inline constexpr uint64_t kInProgressMaxDelayMs = 2000;

// Decides what to do about `cause`. `forwarded`: a CHUNK of this job was
// already sent. Counts the retry in *state when it returns one.
RetryDecision decide_retry(RetryCause cause, bool forwarded, RetryState* state);

const char* retry_cause_name(RetryCause cause);

}  // namespace qp::worker
