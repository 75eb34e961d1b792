#include "worker/toolcalls/tool_plan.h"

namespace qp::worker::toolcalls {

bool is_roo_system_prompt(std::string_view system_text) {
  // Roo Code's native-mode prompt (and its forks') names attempt_completion
  // in its rules; "You are Roo" opens the default modes' role definition.
  return system_text.find("attempt_completion") != std::string_view::npos ||
         system_text.find("You are Roo") != std::string_view::npos;
}

Result<ToolPlan> plan_tools(const protocol::JobRequest& job) {
  ToolPlan plan;
  plan.parallel = job.parallel_tool_calls;
  plan.choice = parse_tool_choice(job.tool_choice);
  std::string system;
  for (const auto& m : job.messages) {
    if (m.role == "system" || m.role == "developer") {
      if (!system.empty()) system.push_back('\n');
      system.append(m.content);
    }
  }
  if (!job.tools.empty()) {
    auto set = parse_tool_set(job.tools);
    if (!set) return set.error();
    plan.tools = std::move(set.value());
  }
  if (!plan.tools.empty()) {
    if (plan.choice.mode == ToolChoice::Mode::kNone) return plan;  // kOff
    if (plan.choice.mode == ToolChoice::Mode::kNamed &&
        plan.tools.find(plan.choice.name) == nullptr)
      plan.choice.mode = ToolChoice::Mode::kRequired;  // validated upstream; be safe
    plan.mode = ToolMode::kNative;
    plan.roo = plan.completion_tool() != nullptr && is_roo_system_prompt(system);
    return plan;
  }
  if (is_roo_xml_prompt(system)) {
    plan.mode = ToolMode::kXml;
    plan.catalog = parse_xml_catalog(system);
    plan.choice = ToolChoice{};
  }
  return plan;
}

}  // namespace qp::worker::toolcalls
