#include "worker/toolcalls/json_repair.h"

#include <vector>

namespace qp::worker::toolcalls {

std::string repair_json(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  std::vector<char> stack;  // expected closers
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
        out.push_back(c);
      } else if (c == '\\') {
        escaped = true;
        out.push_back(c);
      } else if (c == '"') {
        in_string = false;
        out.push_back(c);
      } else if (c == '\n') {
        out.append("\\n");
      } else if (c == '\r') {
        out.append("\\r");
      } else if (c == '\t') {
        out.append("\\t");
      } else if (static_cast<unsigned char>(c) < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out.append("\\u00");
        out.push_back(kHex[(c >> 4) & 0xF]);
        out.push_back(kHex[c & 0xF]);
      } else {
        out.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        out.push_back(c);
        break;
      case '{':
        stack.push_back('}');
        out.push_back(c);
        break;
      case '[':
        stack.push_back(']');
        out.push_back(c);
        break;
      case '}':
      case ']': {
        // Drop a dangling comma: `{"a":1,}`.
        size_t k = out.find_last_not_of(" \t\r\n");
        if (k != std::string::npos && out[k] == ',') out.erase(k, 1);
        if (!stack.empty() && stack.back() == c) stack.pop_back();
        out.push_back(c);
        break;
      }
      default:
        out.push_back(c);
    }
  }
  if (in_string) {
    if (escaped) out.pop_back();
    out.push_back('"');
  }
  size_t k = out.find_last_not_of(" \t\r\n");
  if (k != std::string::npos && (out[k] == ',' || out[k] == ':')) {
    if (out[k] == ':')
      out.append("null");
    else
      out.erase(k, 1);
  }
  while (!stack.empty()) {
    out.push_back(stack.back());
    stack.pop_back();
  }
  return out;
}

}  // namespace qp::worker::toolcalls
