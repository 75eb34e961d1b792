// Decides, once per job, how tools are handled: which mode, which tools,
// which tool_choice, and whether every reply must end in a tool call. Pure.
//
//   kOff    no tools, or tool_choice "none": the answer text passes through.
//   kNative the request has `tools`: the tools are described in the prompt
//           and the model's calls come back as OpenAI tool_calls.
//   kXml    no `tools` but a Roo Code XML tool catalogue in the system
//           prompt (Roo Code ≤ v3.41): the answer stays text and must carry
//           exactly one XML tool call (xml_stream.h).
#pragma once

#include <string_view>

#include "common/protocol/messages.h"
#include "common/status.h"
#include "worker/toolcalls/tool_set.h"
#include "worker/toolcalls/xml_catalog.h"

namespace qp::worker::toolcalls {

enum class ToolMode : uint8_t { kOff, kNative, kXml };

inline constexpr std::string_view kCompletionTool = "attempt_completion";

struct ToolPlan {
  ToolMode mode = ToolMode::kOff;
  ToolSet tools;  // kNative
  ToolChoice choice;
  bool parallel = true;  // parallel_tool_calls
  bool roo = false;      // kNative: Roo Code detected (attempt_completion tool + its prompt)
  XmlCatalog catalog;    // kXml

  // tool_choice "required" or named: a reply without a call is retried once
  // with a firmer instruction (prompt_render.h), then completed.
  bool must_call() const {
    return choice.mode == ToolChoice::Mode::kRequired || choice.mode == ToolChoice::Mode::kNamed;
  }
  // Every reply ends with a tool call (docs/tools.md, "the guarantee").
  bool guaranteed() const { return mode == ToolMode::kXml || roo || must_call(); }
  // The attempt_completion tool when the client has one (kNative).
  const Tool* completion_tool() const { return tools.find(kCompletionTool); }
  // Stop the upstream after the first accepted call.
  bool single_call() const { return !parallel || choice.mode == ToolChoice::Mode::kNamed; }
};

// The system text the detectors look at: every system and developer message.
bool is_roo_system_prompt(std::string_view system_text);

Result<ToolPlan> plan_tools(const protocol::JobRequest& job);

}  // namespace qp::worker::toolcalls
