// Parses and validates an OpenAI chat-completions request body (simdjson
// on-demand). No I/O, no HTTP. Every field of OpenAI's
// CreateChatCompletionRequest is accepted; fields the Qwen web API cannot
// honour are accepted and ignored (docs/api.md lists each one). Validation
// errors name the offending parameter in ApiError::param.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "common/config.h"
#include "common/protocol/messages.h"
#include "frontend/attachments/attachments.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend {

struct ChatRequest {
  protocol::JobRequest job;    // what goes to the worker
  bool include_usage = false;  // stream_options.include_usage
  bool want_json = false;      // response_format is json_object or json_schema
};

// OpenAI reasoning_effort → Qwen thinking (docs/api.md, "Thinking"):
// none / minimal / low → off; medium / high / xhigh → on with budget
// kEffortBudget{Medium,High,XHigh}. False for any other value.
inline constexpr int64_t kEffortBudgetMedium = 8192;
inline constexpr int64_t kEffortBudgetHigh = 24576;
inline constexpr int64_t kEffortBudgetXHigh = 38912;
bool apply_reasoning_effort(std::string_view effort, protocol::JobFeatures* features);

class ChatRequestParser {
 public:
  ChatRequestParser() = default;
  // Parses `body`. On failure returns false and fills *err (400 with param).
  // REQUIRES: body stays alive during the call only; the result owns copies.
  bool parse(std::string_view body, ChatRequest* out, ApiError* err);
  // The [attachments] limits (default: built-in). REQUIRES: outlives the parser.
  void set_attachments(const AttachmentsConfig& config) { attachments_ = &config; }

 private:
  const AttachmentsConfig* attachments_ = &attachments::default_config();
  simdjson::ondemand::parser parser_;
  std::string padded_;  // body copy with SIMDJSON_PADDING spare bytes, reused
};

}  // namespace qp::frontend
