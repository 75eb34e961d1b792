#include "worker/toolcalls/signature.h"

namespace qp::worker::toolcalls {
namespace {

constexpr int kMaxDepth = 8;

void append_type(const Schema& s, std::string* out, int depth);

// "a|b" needs parentheses before "[]"; "{x: a|b}" does not.
bool top_level_union(std::string_view t) {
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '{' || c == '(') {
      ++depth;
    } else if (c == '}' || c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      return true;
    }
  }
  return false;
}

void append_properties(const Schema& s, std::string* out, int depth) {
  bool first = true;
  for (const auto& p : s.properties) {
    if (!first) out->append(", ");
    first = false;
    out->append(p.name);
    if (!p.required) out->push_back('?');
    out->append(": ");
    append_type(p.schema, out, depth + 1);
  }
}

void append_type(const Schema& s, std::string* out, int depth) {
  if (depth > kMaxDepth) {
    out->append("any");
    return;
  }
  std::string parts;
  auto alt = [&parts](std::string_view t) {
    if (!parts.empty()) parts.push_back('|');
    parts.append(t);
  };
  if (!s.enum_json.empty()) {
    for (const auto& e : s.enum_json) alt(e);
    if (s.nullable() && parts.find("null") == std::string::npos) alt("null");
    out->append(parts);
    return;
  }
  for (const auto& a : s.any_of) {
    std::string t;
    append_type(a, &t, depth + 1);
    alt(t);
  }
  if ((s.types & kTypeString) != 0) alt("string");
  if ((s.types & kTypeInteger) != 0) alt("integer");
  if ((s.types & kTypeNumber) != 0) alt("number");
  if ((s.types & kTypeBoolean) != 0) alt("boolean");
  if ((s.types & kTypeObject) != 0) {
    if (s.properties.empty()) {
      alt("object");
    } else {
      std::string t = "{";
      append_properties(s, &t, depth);
      t.push_back('}');
      alt(t);
    }
  }
  if ((s.types & kTypeArray) != 0) {
    std::string item;
    if (s.items.empty())
      item = "any";
    else
      append_type(s.items[0], &item, depth + 1);
    if (top_level_union(item)) item = "(" + item + ")";
    alt(item + "[]");
  }
  if ((s.types & kTypeNull) != 0) alt("null");
  if (parts.empty()) parts = "any";
  out->append(parts);
}

void one_line(std::string_view text, std::string* out) {
  // Descriptions keep their words; line breaks become spaces so each note
  // stays one line.
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out->empty() && out->back() != ' ') out->push_back(' ');
    space = false;
    out->push_back(c);
  }
}

void append_notes(const Schema& s, const std::string& prefix, std::string* out, int depth) {
  if (depth > kMaxDepth) return;
  for (const auto& p : s.properties) {
    std::string path = prefix.empty() ? p.name : prefix + "." + p.name;
    if (!p.schema.description.empty() || !p.schema.default_json.empty()) {
      out->append("- ").append(path).append(": ");
      one_line(p.schema.description, out);
      if (!p.schema.default_json.empty()) {
        if (!p.schema.description.empty()) out->push_back(' ');
        out->append("(default: ").append(p.schema.default_json).push_back(')');
      }
      out->push_back('\n');
    }
    const Schema* nested = &p.schema;
    std::string nested_path = path;
    while ((nested->types & kTypeArray) != 0 && !nested->items.empty()) {
      nested = &nested->items[0];
      nested_path += "[]";
    }
    if (!nested->properties.empty()) append_notes(*nested, nested_path, out, depth + 1);
  }
}

}  // namespace

std::string type_signature(const Schema& s) {
  std::string out;
  append_type(s, &out, 0);
  return out;
}

std::string tool_signature(const Tool& tool) {
  std::string out = ToolSet::upstream_name(tool.name);
  out.push_back('(');
  append_properties(tool.parameters, &out, 0);
  out.push_back(')');
  return out;
}

std::string parameter_notes(const Schema& parameters) {
  std::string out;
  append_notes(parameters, "", &out, 0);
  return out;
}

}  // namespace qp::worker::toolcalls
