#include "worker/toolcalls/tool_stream.h"

#include "worker/toolcalls/native_stream.h"
#include "worker/toolcalls/xml_stream.h"

namespace qp::worker::toolcalls {
namespace {

// kOff: the answer text goes through untouched.
class PassThrough final : public ToolStream {
 public:
  void feed(std::string_view text, StreamOutput* out) override { out->add_text(text); }
  void finish(StreamOutput*) override {}
  bool stop_upstream() const override { return false; }
  size_t buffered_bytes() const override { return 0; }
  size_t max_buffered_bytes() const override { return 0; }
};

}  // namespace

void StreamOutput::add_text(std::string_view text) {
  if (text.empty()) return;
  if (chunks.empty() || !chunks.back().tool_calls.empty()) chunks.emplace_back();
  chunks.back().content.append(text);
}

void StreamOutput::add_call(int32_t index, std::string id, std::string name,
                            std::string arguments) {
  protocol::JobChunk c;
  c.tool_calls.push_back(protocol::ToolCallDelta{index, std::move(id), std::move(name), ""});
  c.tool_calls.push_back(protocol::ToolCallDelta{index, "", "", std::move(arguments)});
  chunks.push_back(std::move(c));
}

std::string StreamOutput::text() const {
  std::string s;
  for (const auto& c : chunks) s.append(c.content);
  return s;
}

std::unique_ptr<ToolStream> make_tool_stream(const ToolPlan& plan, StreamOptions options) {
  switch (plan.mode) {
    case ToolMode::kNative:
      return std::make_unique<NativeStream>(plan, std::move(options));
    case ToolMode::kXml:
      return std::make_unique<XmlStream>(plan, std::move(options));
    case ToolMode::kOff:
      break;
  }
  return std::make_unique<PassThrough>();
}

}  // namespace qp::worker::toolcalls
