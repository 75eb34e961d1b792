// The tool parts of the single upstream user message (native mode): the tool
// section, the firmer instruction for the retry, and the history (assistant
// tool calls and tool results) in the same call syntax the model is asked
// to write, so every example it sees is one the parser accepts. Pure.
//
// The call syntax (docs/tools.md) is Qwen3-Coder's own:
//
//   <tool_call>
//   <function=fn_read_file>
//   <parameter=path>
//   src/main.cc
//   </parameter>
//   </function>
//   </tool_call>
//
// Values are raw text (code needs no escaping; arrays and objects are
// JSON). Tool names carry kUpstreamPrefix. Results go back as
//
//   <tool_response name="fn_read_file" id="call_…">
//   …the tool's output…
//   </tool_response>
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "worker/toolcalls/tool_plan.h"

namespace qp::worker::toolcalls {

// The "# Tools" section to put in the upstream message, with the rules for
// the plan's tool_choice and parallel_tool_calls. Empty unless kNative.
// Send it on a chat's first turn and whenever ToolSet::hash() changes.
std::string render_tool_section(const ToolPlan& plan);

// Appended to the upstream message when a required call is retried
// (ToolStream::retry_wanted()).
std::string render_retry_instruction(const ToolPlan& plan);

// XML mode: a short reminder of Roo Code's one-tool rule (the catalogue
// itself is in the client's system prompt). Empty unless kXml.
std::string render_xml_reminder(const ToolPlan& plan);

// An assistant message's `tool_calls` (OpenAI JSON array text) as call
// blocks. Unparseable input is returned as it is.
std::string render_assistant_tool_calls(std::string_view tool_calls_json);

// One role:"tool" message as a result block. `name` is the client's tool
// name (from CallNames; may be empty).
std::string render_tool_result(std::string_view tool_call_id, std::string_view name,
                               std::string_view content);

// tool_call_id → tool name, from the assistant messages of a history.
class CallNames {
 public:
  void add(std::string_view tool_calls_json);
  std::string_view find(std::string_view id) const;

 private:
  std::vector<std::pair<std::string, std::string>> ids_;  // id, name
};

}  // namespace qp::worker::toolcalls
