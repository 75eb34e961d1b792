// Fuzz target: the tool schema parser (worker/toolcalls/schema) and what is
// built from a schema: the canonical form (tool-set hash) and the rendered
// signature. The input is a JSON Schema, and is also tried as a whole
// `tools` array (worker/toolcalls/tool_set) and as a tool_choice.
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "worker/toolcalls/schema.h"
#include "worker/toolcalls/signature.h"
#include "worker/toolcalls/tool_set.h"

using namespace qp::worker::toolcalls;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Schema s = parse_schema_json(in);
  std::string canon;
  append_canonical(s, &canon);
  Tool tool{"fuzz_tool", "a tool", s, false};
  (void)tool_signature(tool);
  (void)parameter_notes(s);
  (void)type_signature(s);

  auto set = parse_tool_set(in);
  if (set) {
    for (const auto& t : set.value().tools()) {
      (void)tool_signature(t);
      if (set.value().find(t.name) == nullptr) qp::fuzz::fail("a parsed tool is not found by name");
    }
    (void)set.value().hash_hex();
  }
  (void)parse_tool_choice(in);
  return 0;
}
