#include "worker/toolcalls/tool_set.h"

#include <cstdio>

namespace qp::worker::toolcalls {
namespace {

uint64_t fnv1a(std::string_view s, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

ToolSet::ToolSet(std::vector<Tool> tools) : tools_(std::move(tools)) {
  uint64_t h = 14695981039346656037ull;
  std::string canon;
  for (const auto& t : tools_) {
    canon.clear();
    canon.append(std::to_string(t.name.size())).push_back(':');
    canon.append(t.name);
    canon.append(std::to_string(t.description.size())).push_back(':');
    canon.append(t.description);
    canon.push_back(t.strict ? 'S' : 's');
    append_canonical(t.parameters, &canon);
    h = fnv1a(canon, h);
  }
  hash_ = tools_.empty() ? 0 : h;
}

const Tool* ToolSet::find(std::string_view name) const {
  if (name.substr(0, kUpstreamPrefix.size()) == kUpstreamPrefix) {
    std::string_view bare = name.substr(kUpstreamPrefix.size());
    for (const auto& t : tools_) {
      if (t.name == bare) return &t;
    }
  }
  for (const auto& t : tools_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string ToolSet::hash_hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
  return buf;
}

std::string ToolSet::upstream_name(std::string_view name) {
  std::string s(kUpstreamPrefix);
  s.append(name);
  return s;
}

Result<ToolSet> parse_tool_set(std::string_view tools_json) {
  if (tools_json.empty()) return ToolSet();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array arr;
  if (parser.parse(tools_json.data(), tools_json.size()).get(doc) || doc.get_array().get(arr)) {
    return error(Code::kInvalidArgument, "tools is not a JSON array");
  }
  std::vector<Tool> tools;
  SchemaBudget budget;  // shared: the whole tool set is bounded, not each tool
  for (simdjson::dom::element t : arr) {
    std::string_view type, name;
    simdjson::dom::element fn;
    if (t["type"].get_string().get(type) || type != "function") continue;
    if (t["function"].get(fn) || fn["name"].get_string().get(name) || name.empty()) continue;
    Tool tool;
    tool.name.assign(name);
    std::string_view desc;
    if (!fn["description"].get_string().get(desc)) tool.description.assign(desc);
    bool strict = false;
    if (!fn["strict"].get_bool().get(strict)) tool.strict = strict;
    simdjson::dom::element params;
    if (!fn["parameters"].get(params)) tool.parameters = parse_schema(params, &budget);
    if (tool.parameters.types == 0) tool.parameters.types = kTypeObject;
    tools.push_back(std::move(tool));
  }
  return ToolSet(std::move(tools));
}

ToolChoice parse_tool_choice(std::string_view choice_json) {
  ToolChoice c;
  if (choice_json == "\"none\"") c.mode = ToolChoice::Mode::kNone;
  if (choice_json == "\"required\"") c.mode = ToolChoice::Mode::kRequired;
  if (choice_json.empty() || choice_json[0] != '{') return c;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view name;
  if (parser.parse(choice_json.data(), choice_json.size()).get(doc)) return c;
  if (doc["function"]["name"].get_string().get(name) || name.empty()) return c;
  c.mode = ToolChoice::Mode::kNamed;
  c.name.assign(name);
  return c;
}

}  // namespace qp::worker::toolcalls
