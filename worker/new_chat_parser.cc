#include "worker/new_chat_parser.h"

#include <simdjson.h>

namespace qp::worker {

Result<std::string> parse_new_chat(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) || !root.is_object()) {
    return error(Code::kUpstream, "Qwen's new-chat answer is not a JSON object");
  }
  bool success = false;
  if (root["success"].get(success) || !success) {
    return error(Code::kUpstream, "Qwen's new-chat answer has no success:true");
  }
  std::string_view id;
  if (root.at_pointer("/data/id").get(id) || id.empty()) {
    return error(Code::kUpstream, "Qwen's new-chat answer has no data.id");
  }
  return std::string(id);
}

}  // namespace qp::worker
