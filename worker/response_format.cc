#include "worker/response_format.h"

#include <simdjson.h>

namespace qp::worker {

std::string response_format_instruction(std::string_view rf) {
  if (rf.empty()) return {};
  simdjson::dom::parser parser;  // once per request, cold path
  simdjson::dom::element doc;
  std::string_view type;
  if (parser.parse(rf.data(), rf.size()).get(doc) || doc["type"].get_string().get(type)) return {};
  if (type == "json_object") {
    return "[Output format] Reply with one valid JSON object and nothing else: no prose before or "
           "after it, no Markdown code fences.";
  }
  if (type != "json_schema") return {};
  std::string out =
      "[Output format] Reply with one valid JSON value that conforms to the JSON Schema below, and "
      "nothing else: no prose before or after it, no Markdown code fences.";
  simdjson::dom::element spec;
  if (!doc["json_schema"].get(spec)) {
    std::string_view name;
    if (!spec["name"].get_string().get(name)) out.append("\nSchema name: ").append(name);
    std::string_view description;
    if (!spec["description"].get_string().get(description)) {
      out.append("\nPurpose: ").append(description);
    }
    simdjson::dom::element schema;
    if (!spec["schema"].get(schema)) out.append("\nJSON Schema: ").append(simdjson::minify(schema));
  }
  return out;
}

}  // namespace qp::worker
