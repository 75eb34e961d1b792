#include "common/json/json_output.h"

#include <simdjson.h>

#include "common/strings.h"

namespace qp::json {
namespace {

using strings::trim;
}  // namespace

bool parses_as_json(std::string_view text) {
  text = trim(text);
  if (text.empty()) return false;
  simdjson::dom::parser parser;  // once per finished answer
  simdjson::dom::element doc;
  return !parser.parse(text.data(), text.size()).get(doc);
}

std::string_view strip_code_fence(std::string_view text) {
  std::string_view t = trim(text);
  if (t.size() < 6 || t.substr(0, 3) != "```" || t.substr(t.size() - 3) != "```") return text;
  size_t eol = t.find('\n');
  if (eol == std::string_view::npos || eol + 1 > t.size() - 3) return text;
  return trim(t.substr(eol + 1, t.size() - 3 - (eol + 1)));
}

std::string_view returned_json_answer(std::string_view content) {
  if (parses_as_json(content)) return content;
  std::string_view inner = strip_code_fence(content);
  return inner.size() != content.size() && parses_as_json(inner) ? inner : content;
}

}  // namespace qp::json
