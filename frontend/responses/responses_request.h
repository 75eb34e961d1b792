// Parses and validates an OpenAI Responses API request body (POST
// /v1/responses; simdjson on-demand) into the same protocol::JobRequest the
// chat-completions route builds, so the worker sees no difference. No I/O,
// no HTTP. docs/api.md ("Responses API") lists every field, item and tool
// type as honoured, mapped, ignored or refused.
//
// Input items -> chat messages:
//  - `message` (role user|assistant|system|developer; `type` may be left
//    out): content a string or input_text/output_text parts joined with
//    "\n"; system and developer are system text (not part of the
//    conversation key); input_image/input_file/input_audio are refused (400)
//    until images are supported;
//  - `function_call` -> an OpenAI tool call of an assistant message:
//    consecutive calls join the assistant message before them (its text), so
//    a turn re-sent as items keys exactly like the reply the worker indexed;
//  - `function_call_output` -> a `tool` message (tool_call_id = call_id);
//  - `reasoning` items, and items of tools this gateway never offers
//    (custom, web search, shell, computer… calls and outputs), are dropped;
//  - item `id`s are ignored.
// `instructions` is system text in front of everything (not carried over by
// previous_response_id, as OpenAI documents).
//
// Tools: `function` -> an OpenAI function tool; `namespace` -> its function
// tools (the function's name is what the model sees; the namespace is
// remembered so a call of it names its namespace again); `web_search*` ->
// asks for Qwen's web-search variant (chosen by the frontend, which knows the
// model list); `custom` and any other type are ignored and listed in
// ignored_tools (the frontend logs them once), never refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "common/protocol/messages.h"
#include "frontend/attachments/attachments.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend::responses {

struct ResponsesRequest {
  // model = the client's model; messages = instructions + input until
  // finish() puts the stored history in front.
  protocol::JobRequest job;
  std::vector<protocol::ChatMessage> input;  // the input items' messages
  std::string instructions;                  // empty: none (echoed as null)
  std::string previous_response_id;
  bool store = true;
  bool thinking = false;         // reasoning.effort other than none/minimal
  std::string reasoning_effort;  // as sent (echoed), empty = null
  std::string reasoning_summary;
  bool want_json = false;   // text.format json_object / json_schema
  std::string text_format;  // text.format as JSON (echoed), empty = {"type":"text"}
  bool web_search = false;  // a web_search tool was offered
  // Input as Responses items (a JSON array), what the store keeps.
  std::string input_items;
  // function name -> namespace, for the functions of namespace tools.
  std::vector<std::pair<std::string, std::string>> namespaces;
  std::vector<std::string> ignored_tools;  // types of the tools ignored
  std::string tools_echo;                  // Response.tools: the function tools honoured
  std::string tool_choice_echo;            // Response.tool_choice (JSON), empty = "auto"
  std::string metadata;                    // the metadata object (JSON), empty = {}
  uint64_t input_bytes = 0;                // bytes of prompt text, tool calls and schemas

  // The namespace of function `name`, empty if none.
  std::string_view namespace_of(std::string_view name) const;
};

class ResponsesRequestParser {
 public:
  // Parses `body`. On failure returns false and fills *err (400 with param).
  bool parse(std::string_view body, ResponsesRequest* out, ApiError* err);
  // Converts stored conversation items (a JSON array the store wrote) to
  // messages; false (with *err) if they do not parse.
  bool parse_items(std::string_view items_json, std::vector<protocol::ChatMessage>* out,
                   ApiError* err);
  // The [attachments] limits (default: built-in). REQUIRES: outlives the parser.
  void set_attachments(const AttachmentsConfig& config) { attachments_ = &config; }

 private:
  const AttachmentsConfig* attachments_ = &attachments::default_config();
  simdjson::ondemand::parser parser_;
  std::string padded_;  // body copy with SIMDJSON_PADDING spare bytes, reused
};

// Builds r->job.messages (instructions, then `history`, then the input) and
// the job's history key.
void finish(ResponsesRequest* r, std::vector<protocol::ChatMessage> history);

// Joins JSON arrays' elements into one array (each argument "[...]" or empty).
std::string join_arrays(std::initializer_list<std::string_view> arrays);

}  // namespace qp::frontend::responses
