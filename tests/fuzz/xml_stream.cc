// Fuzz target: the Roo Code XML-mode stream parser (worker/toolcalls/xml_stream)
// with the tool catalogue of tests/testdata/tools/roo_xml_system_prompt.txt.
// The input is the model's answer text, fed whole and in pieces derived
// from the input: same output, bounded memory.
#include <string>
#include <string_view>

#include "stream_util.h"

using namespace qp::worker::toolcalls;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ToolPlan plan = [] {
    auto job = qp::fuzz::base_job();
    job.messages.insert(
        job.messages.begin(),
        {"system", qp::fuzz::testdata("tools/roo_xml_system_prompt.txt"), "", "", ""});
    auto p = plan_tools(job);
    if (!p || p.value().mode != ToolMode::kXml) qp::fuzz::fail("xml plan");
    return std::move(p.value());
  }();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  qp::fuzz::check_splits(plan, in, 0);
  return 0;
}
