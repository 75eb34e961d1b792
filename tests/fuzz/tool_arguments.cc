// Fuzz target: argument coercion (worker/toolcalls/arguments) against the real
// tool schemas of tests/testdata/tools/native_tools.json, or against a
// schema taken from the input.
//
// Input layout: byte 0 selects
//   bits 0-3  the tool (index modulo the tool count),
//   bit 4     arguments as JSON text (else as XML-style parameters),
//   bit 5     flip the tool's `strict`,
//   bit 6     the rest is "<schema JSON>\0<arguments>" (a fuzzed schema);
// the arguments are JSON text, or parameters "name\x1fvalue" separated by
// '\x1e'. Successful output must be a JSON object (simdjson parses it).
#include <string>
#include <string_view>

#include <simdjson.h>

#include "fuzz_util.h"
#include "worker/toolcalls/arguments.h"
#include "worker/toolcalls/tool_set.h"

using namespace qp::worker::toolcalls;

namespace {

const ToolSet& tools() {
  static const ToolSet set = [] {
    auto r = parse_tool_set(qp::fuzz::testdata("tools/native_tools.json"));
    if (!r || r.value().empty()) qp::fuzz::fail("native_tools.json does not parse");
    return r.value();
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t sel = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  Tool tool = tools().tools()[(sel & 0x0f) % tools().tools().size()];
  if (sel & 0x20) tool.strict = !tool.strict;
  if (sel & 0x40) {
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return 0;
    tool.parameters = parse_schema_json(rest.substr(0, nul));
    rest = rest.substr(nul + 1);
  }
  RawCall call;
  call.name = ToolSet::upstream_name(tool.name);
  if (sel & 0x10) {
    call.has_json = true;
    call.json = std::string(rest);
  } else {
    while (!rest.empty()) {
      size_t end = rest.find('\x1e');
      std::string_view rec = rest.substr(0, end);
      size_t us = rec.find('\x1f');
      RawParam p;
      p.name = std::string(rec.substr(0, us));
      if (us != std::string_view::npos) p.value = std::string(rec.substr(us + 1));
      call.params.push_back(std::move(p));
      if (end == std::string_view::npos) break;
      rest = rest.substr(end + 1);
    }
  }
  std::string json, error;
  if (build_arguments(tool, call, &json, &error)) {
    simdjson::dom::parser p;
    auto doc = p.parse(json);
    if (doc.error() != simdjson::SUCCESS || !doc.value().is_object())
      qp::fuzz::fail("build_arguments produced something other than a JSON object", json);
  } else if (error.empty()) {
    qp::fuzz::fail("build_arguments failed without naming the problem");
  }
  return 0;
}
