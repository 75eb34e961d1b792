// The `tools` and `tool_choice` of a Responses API request (part of
// responses_request.h's parser; no I/O): function tools and the functions
// of namespace tools become OpenAI chat function tools (and
// ResponsesRequest::tools_echo); web_search tools set web_search; custom and
// any other type are listed in ignored_tools, never refused. tool_choice
// auto|none|required|{type:function,name} maps to the chat forms
// (allowed_tools: its mode; a hosted tool's choice: auto).
#pragma once

#include <string>
#include <vector>

#include <simdjson.h>

#include "frontend/openai/json_fields.h"
#include "frontend/responses/responses_request.h"

namespace qp::frontend::responses {

struct ToolChoice {
  std::string mode;  // auto | none | required | function; empty: not given
  std::string name;
};

// tools -> out->job.tools, out->tools_echo, namespaces, web_search,
// ignored_tools; the function names into *names.
bool parse_tools(fields::Ctx& c, simdjson::ondemand::value v, ResponsesRequest* out,
                 std::vector<std::string>* names);
bool parse_tool_choice(fields::Ctx& c, simdjson::ondemand::value v, ToolChoice* tc);
// Checks tc against the function names and sets job.tool_choice and the echo.
bool apply_tool_choice(fields::Ctx& c, const ToolChoice& tc, const std::vector<std::string>& names,
                       ResponsesRequest* r);

}  // namespace qp::frontend::responses
