// Fuzz target: the native tool-call stream parser
// (worker/toolcalls/native_stream) over the tools of
// tests/testdata/tools/native_tools.json. The input is the model's answer
// text; its first byte also picks the plan (tool_choice auto, required,
// named with parallel calls off, Roo Code) and the attempt. The text is fed
// whole and in pieces derived from the input: same output, bounded memory,
// well-formed calls.
#include <string>
#include <string_view>

#include "stream_util.h"

using namespace qp::worker::toolcalls;

namespace {

ToolPlan make_plan(std::string_view choice, bool parallel, bool roo) {
  auto job = qp::fuzz::base_job();
  job.tools = qp::fuzz::testdata("tools/native_tools.json");
  job.tool_choice = std::string(choice);
  job.parallel_tool_calls = parallel;
  if (roo) {
    job.messages.insert(
        job.messages.begin(),
        {"system", qp::fuzz::testdata("tools/roo_native_system_prompt.txt"), "", "", ""});
  }
  auto plan = plan_tools(job);
  if (!plan || plan.value().mode != ToolMode::kNative) qp::fuzz::fail("native plan");
  return std::move(plan.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ToolPlan plans[4] = {
      make_plan("\"auto\"", true, false),
      make_plan("\"required\"", true, false),
      make_plan(R"({"type":"function","function":{"name":"read_file"}})", false, false),
      make_plan("\"auto\"", true, true),
  };
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const uint8_t sel = size > 0 ? data[0] : 0;
  qp::fuzz::check_splits(plans[sel & 3], in, (sel >> 2) & 1);
  return 0;
}
