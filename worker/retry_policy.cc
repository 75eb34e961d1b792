#include "worker/retry_policy.h"

#include <algorithm>
#include <cctype>

#include <simdjson.h>

namespace qp::worker {
namespace {

using simdjson::dom::element;

bool icontains(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
  return it != hay.end();
}

std::string_view str_field(element e, const char* key) {
  std::string_view v;
  if (e.is_object() && !e[key].get(v)) return v;
  return {};
}

// Adds the code and the details/message of an error object.
void read_error(element e, std::string_view* code, std::string_view* details) {
  std::string_view s;
  if (!e.get(s)) {  // "error": "text"
    if (details->empty()) *details = s;
    return;
  }
  if (code->empty()) *code = str_field(e, "code");
  for (const char* k : {"details", "detail", "message"}) {
    if (details->empty()) *details = str_field(e, k);
  }
}

RetryCause cause_of(std::string_view code, std::string_view details) {
  if (icontains(details, "in progress")) return RetryCause::kChatInProgress;
  if (icontains(details, "parent_id") && icontains(details, "not exist")) {
    return RetryCause::kParentMissing;
  }
  // An unknown or foreign chat (exact text not recorded; "Tool X does not
  // exists" must not match, hence "chat").
  if (icontains(details, "not exist") && icontains(details, "chat")) {
    return RetryCause::kChatMissing;
  }
  if (icontains(details, "internal error") || code == "internal_error" || code == "InternalError") {
    return RetryCause::kInternalError;
  }
  return RetryCause::kNone;
}

}  // namespace

RetryCause retry_cause(std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(body.data(), body.size()).get(root) || !root.is_object()) {
    return RetryCause::kNone;
  }
  std::string_view code, details;
  bool success = true;
  bool has_success = !root["success"].get(success);
  element data;
  if (!root["data"].get(data) && data.is_object()) {
    element err;
    if (!data["error"].get(err) && !err.is_null()) read_error(err, &code, &details);
    // A success envelope's data never carries an error code.
    if (!has_success || !success) read_error(data, &code, &details);
  }
  element err;
  if (!root["error"].get(err) && !err.is_null()) read_error(err, &code, &details);
  if (!str_field(root, "code").empty()) read_error(root, &code, &details);
  if (has_success && success && code.empty()) return RetryCause::kNone;
  return cause_of(code, details);
}

RetryDecision decide_retry(RetryCause cause, bool forwarded, RetryState* state) {
  RetryDecision d;
  if (forwarded) return d;
  switch (cause) {
    case RetryCause::kNone:
      return d;
    case RetryCause::kInternalError:
      if (state->internal_error >= kMaxInternalErrorRetries) return d;
      ++state->internal_error;
      d.action = RetryAction::kNewChat;
      return d;
    case RetryCause::kParentMissing:
      if (state->parent_missing >= kMaxParentMissingRetries) return d;
      ++state->parent_missing;
      d.action = RetryAction::kNewChat;
      return d;
    case RetryCause::kChatMissing:
      if (state->chat_missing >= kMaxChatMissingRetries) return d;
      ++state->chat_missing;
      d.action = RetryAction::kNewChat;
      return d;
    case RetryCause::kEmptyAnswer:
      if (state->empty_answer >= kMaxEmptyAnswerRetries) return d;
      ++state->empty_answer;
      d.action = RetryAction::kNewChat;
      return d;
    case RetryCause::kUploadFailed:
      if (state->upload >= kMaxUploadRetries) return d;
      d.delay_ms = kUploadBaseDelayMs << state->upload;
      ++state->upload;
      d.action = RetryAction::kRetryUpload;
      return d;
    case RetryCause::kChatInProgress: {
      if (state->in_progress >= kMaxInProgressRetries) return d;
      uint64_t delay = kInProgressBaseDelayMs << state->in_progress;
      ++state->in_progress;
      d.action = RetryAction::kStopAndRetry;
      d.delay_ms = std::min(delay, kInProgressMaxDelayMs);
      return d;
    }
  }
  return d;
}

const char* retry_cause_name(RetryCause cause) {
  switch (cause) {
    case RetryCause::kNone:
      return "none";
    case RetryCause::kInternalError:
      return "internal_error";
    case RetryCause::kChatInProgress:
      return "chat_in_progress";
    case RetryCause::kParentMissing:
      return "parent_missing";
    case RetryCause::kChatMissing:
      return "chat_missing";
    case RetryCause::kEmptyAnswer:
      return "empty_answer";
    case RetryCause::kUploadFailed:
      return "upload_failed";
  }
  return "none";
}

}  // namespace qp::worker
