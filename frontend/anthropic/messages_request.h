// Parses and validates an Anthropic Messages API request body
// (POST /v1/messages and /v1/messages/count_tokens; simdjson on-demand) into
// the same protocol::JobRequest the OpenAI route builds, so the worker sees
// no difference. No I/O, no HTTP. docs/api.md ("Anthropic Messages API")
// lists every field as honoured, mapped, ignored or refused.
//
// Mapping:
//  - `system` (a string or text blocks) and `role:"system"` messages become
//    system messages (not part of the conversation key);
//  - text blocks are joined with "\n"; `cache_control`, `citations` and
//    thinking blocks sent back are dropped (so they never change the key);
//  - assistant `tool_use` blocks become the message's OpenAI tool_calls
//    (arguments = the input's JSON text); each user `tool_result` block
//    becomes a `tool` message (tool_call_id = tool_use_id), in order, with
//    the user's text after them as a user message;
//  - `tools` (custom tools; `defer_loading` ones too) become an OpenAI tools
//    array; Anthropic-defined server tools (a `type` other than "custom")
//    are ignored; `tool_choice` auto|any|tool|none maps to auto|required|
//    {function}|none, disable_parallel_tool_use to parallel_tool_calls;
//  - `thinking` enabled|adaptive asks for the model's thinking variant
//    (chosen by the frontend, which knows the model list); disabled does not.
//  - user `image` blocks (base64 or url source) and `document` blocks
//    (base64, url or text source) become attachments of the user message
//    (frontend/attachments/attachments.h); elsewhere they are refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "common/config.h"
#include "common/protocol/messages.h"
#include "frontend/attachments/attachments.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend::anthropic {

struct MessagesRequest {
  protocol::JobRequest job;       // job.model is the client's model name until mapped
  std::string requested_model;    // as the client named it (echoed in responses)
  bool thinking = false;          // thinking enabled or adaptive
  bool thinking_omitted = false;  // thinking.display == "omitted": no thinking text back
  int64_t thinking_budget = 0;    // thinking.enabled.budget_tokens; 0 = not given
  uint64_t input_bytes = 0;       // bytes of prompt text, tool calls and tool schemas
};

// An estimate of the prompt's tokens, for count_tokens and usage.input_tokens
// before the upstream reports its own: one token per 4 bytes of prompt text
// (rounded up). Qwen's tokenizer is not available here, so this is only an
// estimate; it is documented as such.
inline uint64_t estimate_tokens(uint64_t bytes) { return (bytes + 3) / 4; }

// The Qwen model for a client's model name: a name starting with "claude"
// takes the target of the longest matching prefix in cfg.model_map, else
// cfg.default_model; any other name passes through.
std::string map_model(const AnthropicConfig& cfg, std::string_view requested);

class MessagesRequestParser {
 public:
  enum class Mode { kMessages, kCountTokens };  // count_tokens: max_tokens not required
  // Parses `body`. On failure returns false and fills *err (400).
  bool parse(std::string_view body, Mode mode, MessagesRequest* out, ApiError* err);
  // The [attachments] limits (default: built-in). REQUIRES: outlives the parser.
  void set_attachments(const AttachmentsConfig& config) { attachments_ = &config; }

 private:
  const AttachmentsConfig* attachments_ = &attachments::default_config();
  simdjson::ondemand::parser parser_;
  std::string padded_;  // body copy with SIMDJSON_PADDING spare bytes, reused
};

}  // namespace qp::frontend::anthropic
