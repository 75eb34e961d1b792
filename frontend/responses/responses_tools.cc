#include "frontend/responses/responses_tools.h"

#include <unordered_set>

#include "common/json/writer.h"

namespace qp::frontend::responses {
namespace {

using namespace fields;  // NOLINT: Ctx and the typed readers
using simdjson::ondemand::object;

constexpr size_t kMaxFunctionName = 64;

std::string at(const std::string& param, size_t i) { return param + "[" + std::to_string(i) + "]"; }

bool valid_function_name(std::string_view n) {
  if (n.empty() || n.size() > kMaxFunctionName) return false;
  for (char ch : n) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-')) return false;
  }
  return true;
}

struct Tools {
  json::Writer* job;   // OpenAI chat tools
  json::Writer* echo;  // Response.tools
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
};

// {type:function, name, description?, parameters?, strict?}
bool parse_function_tool(Ctx& c, object& tool, const std::string& tp, const std::string& ns,
                         ResponsesRequest* out, Tools& tools) {
  std::string name, description;
  std::string_view params;
  bool strict = false, has_strict = false;
  for (auto f : tool) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return c.fail(tp, "Invalid JSON in '" + tp + "'.");
    value fv = f.value();
    if (k == "name") {
      if (!get_string(c, fv, tp + ".name", &name)) return false;
    } else if (k == "description") {
      if (!is_null(fv) && !get_string(c, fv, tp + ".description", &description)) return false;
    } else if (k == "parameters") {
      if (is_null(fv)) continue;
      json_type t;
      if (fv.type().get(t) || t != json_type::object)
        return c.wrong_type(tp + ".parameters", "an object (a JSON Schema)", fv);
      if (!raw_json(c, fv, tp + ".parameters", &params)) return false;
    } else if (k == "strict") {
      if (!is_null(fv) && !get_bool(c, fv, tp + ".strict", &strict)) return false;
      has_strict = !is_null(fv);
    }
  }
  if (name.empty()) return c.missing(tp + ".name");
  if (!valid_function_name(name)) {
    return c.fail(tp + ".name", "Invalid '" + tp +
                                    ".name': must be 1-64 characters of a-z, A-Z, 0-9, "
                                    "underscores and dashes.");
  }
  if (!tools.seen.insert(name).second) {
    if (!ns.empty()) {  // a namespace's function shadowed by another: keep the first
      out->ignored_tools.push_back(ns + "." + name + " (duplicate name)");
      return true;
    }
    return c.fail(tp + ".name", "Duplicate tool name '" + name + "'.");
  }
  if (params.empty()) params = R"({"type":"object","properties":{}})";
  tools.job->begin_object().field("type", "function").key("function").begin_object();
  tools.job->field("name", name);
  if (!description.empty()) tools.job->field("description", description);
  tools.job->field_raw("parameters", params).end_object().end_object();
  tools.echo->begin_object().field("type", "function").field("name", name);
  tools.echo->field("description", description).field_raw("parameters", params);
  tools.echo->field("strict", has_strict && strict).end_object();
  out->input_bytes += name.size() + description.size() + params.size();
  if (!ns.empty()) out->namespaces.emplace_back(name, ns);
  tools.names.push_back(std::move(name));
  return true;
}

bool parse_tool(Ctx& c, value v, const std::string& tp, ResponsesRequest* out, Tools& tools);

// {type:namespace, name, description, tools:[function|custom]}
bool parse_namespace_tool(Ctx& c, object& tool, const std::string& tp, ResponsesRequest* out,
                          Tools& tools) {
  std::string ns;
  value fv;
  auto e = tool.find_field_unordered("name").get(fv);
  if (e == simdjson::NO_SUCH_FIELD) return c.missing(tp + ".name");
  if (e || !get_string(c, fv, tp + ".name", &ns)) return e ? c.fail(tp, "Invalid JSON.") : false;
  e = tool.find_field_unordered("tools").get(fv);
  if (e == simdjson::NO_SUCH_FIELD) return c.missing(tp + ".tools");
  simdjson::ondemand::array arr;
  if (e || fv.get_array().get(arr)) return c.wrong_type(tp + ".tools", "an array", fv);
  size_t j = 0;
  for (auto item : arr) {
    std::string ip = at(tp + ".tools", j++);
    object inner;
    if (item.get_object().get(inner)) return c.fail(ip, "Invalid type for '" + ip + "'.");
    std::string type;
    value tv;
    auto te = inner.find_field_unordered("type").get(tv);
    if (te == simdjson::NO_SUCH_FIELD) return c.missing(ip + ".type");
    if (te || !get_string(c, tv, ip + ".type", &type))
      return te ? c.fail(ip, "Invalid JSON.") : false;
    if (type != "function") {
      out->ignored_tools.push_back(ns + "." + type);
      continue;
    }
    inner.reset();
    if (!parse_function_tool(c, inner, ip, ns, out, tools)) return false;
  }
  return true;
}

bool parse_tool(Ctx& c, value v, const std::string& tp, ResponsesRequest* out, Tools& tools) {
  object tool;
  if (v.get_object().get(tool)) return c.wrong_type(tp, "an object", v);
  std::string type;
  value tv;
  auto e = tool.find_field_unordered("type").get(tv);
  if (e == simdjson::NO_SUCH_FIELD) return c.missing(tp + ".type");
  if (e) return c.fail(tp, "Invalid JSON in '" + tp + "'.");
  if (!get_string(c, tv, tp + ".type", &type)) return false;
  tool.reset();
  if (type == "function") return parse_function_tool(c, tool, tp, {}, out, tools);
  if (type == "namespace") return parse_namespace_tool(c, tool, tp, out, tools);
  if (type.rfind("web_search", 0) == 0) {
    out->web_search = true;
    return true;
  }
  out->ignored_tools.push_back(type);  // custom, file_search, mcp, shell, …
  return true;
}

}  // namespace

bool parse_tools(Ctx& c, value v, ResponsesRequest* out, std::vector<std::string>* names) {
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) return c.wrong_type("tools", "an array", v);
  json::Writer job(&out->job.tools), echo(&out->tools_echo);
  job.begin_array();
  echo.begin_array();
  Tools tools{&job, &echo, {}, {}};
  size_t i = 0;
  for (auto item : arr) {
    value tv;
    if (item.get(tv)) return c.fail("tools", "Invalid JSON in 'tools'.");
    if (!parse_tool(c, tv, at("tools", i++), out, tools)) return false;
  }
  job.end_array();
  echo.end_array();
  if (tools.names.empty()) out->job.tools.clear();  // nothing the worker can offer
  *names = std::move(tools.names);
  return true;
}

bool parse_tool_choice(Ctx& c, value v, ToolChoice* tc) {
  json_type t;
  if (v.type().get(t)) return c.fail("tool_choice", "Invalid JSON in 'tool_choice'.");
  if (t == json_type::string) {
    if (!get_string(c, v, "tool_choice", &tc->mode)) return false;
    if (tc->mode != "auto" && tc->mode != "none" && tc->mode != "required") {
      return c.fail("tool_choice",
                    "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or an "
                    "object.");
    }
    return true;
  }
  object obj;
  if (t != json_type::object || v.get_object().get(obj))
    return c.wrong_type("tool_choice", "a string or an object", v);
  std::string type;
  for (auto f : obj) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return c.fail("tool_choice", "Invalid JSON in 'tool_choice'.");
    if (k == "type") {
      if (!get_string(c, f.value(), "tool_choice.type", &type)) return false;
    } else if (k == "name") {
      if (!get_string(c, f.value(), "tool_choice.name", &tc->name)) return false;
    } else if (k == "mode") {  // allowed_tools: auto | required
      if (!get_string(c, f.value(), "tool_choice.mode", &tc->mode)) return false;
    }
  }
  if (type == "function") {
    if (tc->name.empty()) return c.missing("tool_choice.name");
    tc->mode = "function";
  } else if (type == "allowed_tools") {
    if (tc->mode != "required") tc->mode = "auto";
  } else if (type.empty()) {
    return c.missing("tool_choice.type");
  } else {
    tc->mode = "auto";  // a hosted tool (web_search…): the model may search or not
  }
  return true;
}

bool apply_tool_choice(Ctx& c, const ToolChoice& tc, const std::vector<std::string>& names,
                       ResponsesRequest* r) {
  auto& job = r->job;
  if (tc.mode.empty()) return true;
  if (tc.mode == "function") {
    bool known = false;
    for (const auto& n : names) known = known || n == tc.name;
    if (!known) {
      return c.fail(
          "tool_choice.name",
          "Invalid value for 'tool_choice.name': no function named '" + tc.name + "' in 'tools'.");
    }
    json::Writer w(&job.tool_choice);
    w.begin_object().field("type", "function").key("function").begin_object();
    w.field("name", tc.name).end_object().end_object();
    json::Writer e(&r->tool_choice_echo);
    e.begin_object().field("type", "function").field("name", tc.name).end_object();
    return true;
  }
  if (tc.mode == "required" && names.empty()) {
    return c.fail("tool_choice",
                  "Invalid value for 'tool_choice': 'required' needs a function in 'tools'.");
  }
  job.tool_choice = "\"" + tc.mode + "\"";
  r->tool_choice_echo = job.tool_choice;
  return true;
}

}  // namespace qp::frontend::responses
