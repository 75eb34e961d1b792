#include "frontend/openai/chat_request.h"

#include <cmath>

#include "common/conversation/history_key.h"
#include "frontend/attachments/attachments.h"
#include "frontend/openai/json_fields.h"
#include "frontend/openai/json_problem.h"
#include "frontend/openai/media_parts.h"

namespace qp::frontend {
namespace {

using namespace fields;  // NOLINT: Ctx and the typed readers

constexpr size_t kMaxStop = 4;

// Text of a message's `content`: a string, null, or an array of parts
// whose text parts are joined with "\n"; image and file parts become the
// message's attachments.
bool parse_content(Ctx& c, value v, const std::string& param, attachments::Builder& b,
                   protocol::ChatMessage* m) {
  return text_content(
      c, v, param, &m->content,
      [&](const std::string& type, bool has_text, const std::string& pp, const PartMedia& media) {
        if (type == "text" || (type.empty() && has_text)) return PartUse::kText;
        if (type == "image_url" || type == "input_image" || type == "image")
          return add_media_part(c, b, true, media, pp, m);
        if (type == "file" || type == "input_file")
          return add_media_part(c, b, false, media, pp, m);
        if (type == "input_audio" || type == "video") {
          c.fail(pp,
                 "Content part type '" + type + "' is not supported; send text, images or files.");
          return PartUse::kFailed;
        }
        if (type == "refusal") return PartUse::kSkip;  // an assistant refusal
        c.fail(pp + ".type", "Invalid content part type '" + type + "'.");
        return PartUse::kFailed;
      });
}

bool parse_message(Ctx& c, value v, size_t i, attachments::Builder& b, protocol::ChatMessage* m) {
  std::string p = "messages[" + std::to_string(i) + "]";
  simdjson::ondemand::object obj;
  if (v.get_object().get(obj)) return c.wrong_type(p, "an object", v);
  bool has_role = false, has_content = false;
  for (auto f : obj) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return c.fail(p, "Invalid JSON in message.");
    value fv = f.value();
    if (k == "role") {
      if (!get_string(c, fv, p + ".role", &m->role)) return false;
      has_role = true;
    } else if (k == "content") {
      if (!parse_content(c, fv, p + ".content", b, m)) return false;
      has_content = true;
    } else if (k == "name") {
      if (!is_null(fv) && !get_string(c, fv, p + ".name", &m->name)) return false;
    } else if (k == "tool_call_id") {
      if (!is_null(fv) && !get_string(c, fv, p + ".tool_call_id", &m->tool_call_id)) return false;
    } else if (k == "tool_calls") {
      if (is_null(fv)) continue;
      json_type t;
      if (fv.type().get(t) || t != json_type::array)
        return c.wrong_type(p + ".tool_calls", "an array", fv);
      std::string_view raw;
      if (simdjson::to_json_string(fv).get(raw))
        return c.fail(p + ".tool_calls", "Invalid JSON in tool_calls.");
      m->tool_calls.assign(raw);
    }
    // Other fields (refusal, audio, reasoning_content, annotations, function_call…) are ignored.
  }
  if (!has_role) return c.fail(p + ".role", "Missing required parameter: '" + p + ".role'.");
  const std::string& r = m->role;
  if (r == "developer")
    m->role = "system";
  else if (r == "function")
    m->role = "tool";
  if (m->role != "system" && m->role != "user" && m->role != "assistant" && m->role != "tool") {
    return c.fail(p + ".role", "Invalid value for '" + p + ".role': '" + r +
                                   "'. Supported values are: 'system', 'developer', 'user', "
                                   "'assistant', 'tool' and 'function'.");
  }
  if (!m->attachments.empty() && m->role != "user") {
    return c.fail(p + ".content", "Images and files are only accepted in user messages.");
  }
  if (!has_content && m->role != "assistant") {
    return c.fail(p + ".content", "Missing required parameter: '" + p + ".content'.");
  }
  if (m->role == "tool" && m->tool_call_id.empty() && m->name.empty()) {
    return c.fail(p + ".tool_call_id", "Missing required parameter: '" + p + ".tool_call_id'.");
  }
  return true;
}

bool raw_object_or_string(Ctx& c, value v, const std::string& param, std::string* out,
                          bool allow_string) {
  json_type t;
  if (v.type().get(t)) return c.fail(param, "Invalid JSON in '" + param + "'.");
  if (t == json_type::null) return true;
  if (t != json_type::object && t != json_type::array &&
      !(allow_string && t == json_type::string)) {
    return c.wrong_type(param, allow_string ? "a string or an object" : "an object", v);
  }
  if (t == json_type::string) {
    std::string_view s;
    if (auto e = v.get_string().get(s)) return c.bad_value(param, "a string", v, e);
    out->clear();
    out->push_back('"');
    out->append(s);  // tool_choice strings are plain words: none|auto|required
    out->push_back('"');
    return true;
  }
  std::string_view raw;
  if (simdjson::to_json_string(v).get(raw))
    return c.fail(param, "Invalid JSON in '" + param + "'.");
  out->assign(raw);
  return true;
}

bool valid_function_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char ch : n) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-')) return false;
  }
  return true;
}

// tools: [{"type":"function","function":{"name":…,"description"?:…,
// "parameters"?:{…},"strict"?:bool}}] (OpenAI's ChatCompletionTool), and a
// tool_choice object naming one of them. Collects the names into *names.
bool validate_tools(Ctx& c, const std::string& raw, std::vector<std::string>* names) {
  simdjson::dom::parser p;  // cold path: only requests with tools
  simdjson::dom::element doc;
  simdjson::dom::array arr;
  if (auto e = p.parse(raw).get(doc)) return c.bad_json("tools", e, "Invalid JSON in 'tools'.");
  if (doc.get_array().get(arr)) {
    return c.fail("tools", "Invalid type for 'tools': expected an array.");
  }
  size_t i = 0;
  for (simdjson::dom::element t : arr) {
    std::string pp = "tools[" + std::to_string(i++) + "]";
    std::string_view type;
    if (t["type"].get_string().get(type) || type != "function") {
      return c.fail(pp + ".type", "Invalid value for '" + pp + ".type': expected 'function'.");
    }
    simdjson::dom::object fn;
    if (t["function"].get_object().get(fn)) {
      return c.fail(pp + ".function", "Missing required parameter: '" + pp + ".function'.");
    }
    std::string_view name;
    if (fn["name"].get_string().get(name)) {
      return c.fail(pp + ".function.name",
                    "Missing required parameter: '" + pp + ".function.name'.");
    }
    if (!valid_function_name(name)) {
      return c.fail(pp + ".function.name", "Invalid '" + pp +
                                               ".function.name': must be 1-64 characters "
                                               "of a-z, A-Z, 0-9, underscores and dashes.");
    }
    simdjson::dom::element params;
    if (!fn["parameters"].get(params) && !params.is_object()) {
      return c.fail(
          pp + ".function.parameters",
          "Invalid type for '" + pp + ".function.parameters': expected an object (a JSON Schema).");
    }
    for (const auto& seen : *names) {
      if (seen == name)
        return c.fail(pp + ".function.name", "Duplicate tool name '" + std::string(name) + "'.");
    }
    names->emplace_back(name);
  }
  return true;
}

bool validate_tool_choice(Ctx& c, const std::string& raw, const std::vector<std::string>& names) {
  if (raw.empty()) return true;
  if (raw[0] == '"') {  // none | auto | required (checked while parsing)
    if (raw == "\"required\"" && names.empty()) {
      return c.fail("tool_choice",
                    "Invalid value for 'tool_choice': 'required' needs a non-empty 'tools'.");
    }
    return true;
  }
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  std::string_view type, name;
  if (auto e = p.parse(raw).get(doc)) {
    return c.bad_json("tool_choice", e, "Invalid JSON in 'tool_choice'.");
  }
  if (doc["type"].get_string().get(type) || type != "function") {
    return c.fail("tool_choice.type", "Invalid value for 'tool_choice.type': expected 'function'.");
  }
  if (doc["function"]["name"].get_string().get(name)) {
    return c.fail("tool_choice.function.name",
                  "Missing required parameter: 'tool_choice.function.name'.");
  }
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return c.fail("tool_choice", "Invalid value for 'tool_choice': no tool named '" +
                                   std::string(name) + "' in 'tools'.");
}

// response_format: {"type":"text"|"json_object"} or {"type":"json_schema",
// "json_schema":{"name":…,"schema":{…},…}}.
bool validate_response_format(Ctx& c, const std::string& raw, bool* want_json) {
  simdjson::dom::parser p;  // cold path: only requests that set the field
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (auto e = p.parse(raw).get(doc)) {
    return c.bad_json("response_format", e, "Invalid JSON in 'response_format'.");
  }
  if (doc.get_object().get(obj)) {
    return c.fail("response_format", "Invalid type for 'response_format': expected an object.");
  }
  std::string_view type;
  if (obj["type"].get_string().get(type)) {
    return c.fail("response_format.type", "Missing required parameter: 'response_format.type'.");
  }
  if (type == "text") return true;
  *want_json = true;
  if (type == "json_object") return true;
  if (type != "json_schema") {
    return c.fail("response_format.type",
                  "Invalid value for 'response_format.type': expected 'text', "
                  "'json_object' or 'json_schema'.");
  }
  simdjson::dom::object spec;
  if (obj["json_schema"].get_object().get(spec)) {
    return c.fail("response_format.json_schema",
                  "Missing required parameter: 'response_format.json_schema'.");
  }
  std::string_view name;
  if (spec["name"].get_string().get(name) || name.empty()) {
    return c.fail("response_format.json_schema.name",
                  "Missing required parameter: 'response_format.json_schema.name'.");
  }
  return true;
}

}  // namespace

bool apply_reasoning_effort(std::string_view effort, protocol::JobFeatures* features) {
  if (effort == "none" || effort == "minimal" || effort == "low") {
    features->thinking = 0;
    features->thinking_budget = 0;
    return true;
  }
  int64_t budget = 0;
  if (effort == "medium")
    budget = kEffortBudgetMedium;
  else if (effort == "high")
    budget = kEffortBudgetHigh;
  else if (effort == "xhigh")
    budget = kEffortBudgetXHigh;
  else
    return false;
  features->thinking = 1;
  features->thinking_budget = budget;
  return true;
}

bool ChatRequestParser::parse(std::string_view body, ChatRequest* out, ApiError* err) {
  Ctx c{err};
  *out = ChatRequest{};
  padded_.assign(body);
  padded_.resize(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  auto malformed = [&] {
    return c.fail("",
                  "We could not parse the JSON body of your request. (HINT: This likely means "
                  "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                  "payload, but what was sent was not valid JSON.)");
  };
  if (parser_.iterate(padded_.data(), body.size(), padded_.size()).get(doc)) return malformed();
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return malformed();

  auto& job = out->job;
  attachments::Builder media(*attachments_);
  bool has_model = false, has_messages = false;
  int64_t max_tokens = 0, max_completion_tokens = 0;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed();
    value v = field.value();
    if (key == "model") {
      if (!get_string(c, v, "model", &job.model)) return false;
      has_model = true;
    } else if (key == "messages") {
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr)) return c.wrong_type("messages", "an array", v);
      size_t i = 0;
      for (auto mv : arr) {
        value m;
        if (mv.get(m)) return malformed();
        job.messages.emplace_back();
        if (!parse_message(c, m, i++, media, &job.messages.back())) return false;
      }
      has_messages = true;
    } else if (key == "stream") {
      if (!is_null(v) && !get_bool(c, v, "stream", &job.stream)) return false;
    } else if (key == "stream_options") {
      if (is_null(v)) continue;
      simdjson::ondemand::object so;
      if (v.get_object().get(so)) return c.wrong_type("stream_options", "an object", v);
      for (auto f : so) {
        std::string_view k;
        if (f.unescaped_key().get(k)) return malformed();
        if (k == "include_usage") {
          if (!get_bool(c, f.value(), "stream_options.include_usage", &out->include_usage))
            return false;
        }
      }
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      if (is_null(v)) continue;
      std::string p(key);
      int64_t n;
      if (!get_int(c, v, p, &n)) return false;
      if (n < 1)
        return c.fail(p,
                      "Invalid '" + p + "': integer below minimum value. Expected a value >= 1.");
      (key == "max_tokens" ? max_tokens : max_completion_tokens) = n;
    } else if (key == "temperature") {
      if (is_null(v)) continue;
      if (!get_number(c, v, "temperature", &job.temperature) ||
          !range(c, "temperature", job.temperature, 0, 2))
        return false;
    } else if (key == "top_p") {
      if (is_null(v)) continue;
      if (!get_number(c, v, "top_p", &job.top_p) || !range(c, "top_p", job.top_p, 0, 1))
        return false;
    } else if (key == "presence_penalty" || key == "frequency_penalty") {
      if (is_null(v)) continue;
      double d;
      std::string p(key);
      if (!get_number(c, v, p, &d) || !range(c, p, d, -2, 2)) return false;
    } else if (key == "n") {
      if (is_null(v)) continue;
      int64_t n;
      if (!get_int(c, v, "n", &n)) return false;
      if (n != 1) return c.fail("n", "Invalid value for 'n': this gateway supports only n=1.");
    } else if (key == "stop") {
      json_type t;
      if (v.type().get(t)) return malformed();
      if (t == json_type::null) continue;
      if (t == json_type::string) {
        std::string s;
        if (!get_string(c, v, "stop", &s)) return false;
        if (!s.empty()) job.stop.push_back(std::move(s));
      } else if (t == json_type::array) {
        simdjson::ondemand::array arr;
        if (v.get_array().get(arr)) return malformed();
        size_t i = 0;
        for (auto sv : arr) {
          value sval;
          if (sv.get(sval)) return malformed();
          std::string s;
          if (!get_string(c, sval, "stop[" + std::to_string(i++) + "]", &s)) return false;
          if (!s.empty()) job.stop.push_back(std::move(s));
        }
        if (i > kMaxStop)
          return c.fail("stop", "Invalid 'stop': array too long. Expected at most 4 items.");
      } else {
        return c.wrong_type("stop", "a string or an array of strings", v);
      }
    } else if (key == "user") {
      if (!is_null(v) && !get_string(c, v, "user", &job.user)) return false;
    } else if (key == "tools") {
      if (is_null(v)) continue;
      json_type t;
      if (v.type().get(t) || t != json_type::array) return c.wrong_type("tools", "an array", v);
      if (!raw_object_or_string(c, v, "tools", &job.tools, false)) return false;
    } else if (key == "tool_choice") {
      if (!raw_object_or_string(c, v, "tool_choice", &job.tool_choice, true)) return false;
      if (!job.tool_choice.empty() && job.tool_choice[0] == '"' && job.tool_choice != "\"none\"" &&
          job.tool_choice != "\"auto\"" && job.tool_choice != "\"required\"") {
        return c.fail("tool_choice",
                      "Invalid value for 'tool_choice': expected 'none', 'auto', "
                      "'required' or an object naming a function.");
      }
    } else if (key == "response_format") {
      if (!raw_object_or_string(c, v, "response_format", &job.response_format, false)) return false;
      if (!job.response_format.empty() &&
          !validate_response_format(c, job.response_format, &out->want_json))
        return false;
    } else if (key == "qwen_chat_id") {
      if (!is_null(v) && !get_string(c, v, "qwen_chat_id", &job.chat_id)) return false;
    } else if (key == "parallel_tool_calls") {
      if (!is_null(v) && !get_bool(c, v, "parallel_tool_calls", &job.parallel_tool_calls))
        return false;
    } else if (key == "web_search_options") {
      // Any object turns search on (Qwen's search takes no options:
      // search_context_size and user_location are accepted and ignored).
      if (is_null(v)) continue;
      json_type t;
      if (v.type().get(t) || t != json_type::object)
        return c.wrong_type("web_search_options", "an object", v);
      job.features.search = true;
    } else if (key == "reasoning_effort") {
      if (is_null(v)) continue;
      std::string effort;
      if (!get_string(c, v, "reasoning_effort", &effort)) return false;
      if (!apply_reasoning_effort(effort, &job.features)) {
        return c.fail("reasoning_effort",
                      "Invalid value for 'reasoning_effort': '" + effort +
                          "'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high' "
                          "and 'xhigh'.");
      }
    } else if (key == "logprobs" || key == "store") {
      bool b;
      if (!is_null(v) && !get_bool(c, v, std::string(key), &b)) return false;
    } else if (key == "seed" || key == "top_logprobs") {
      int64_t n;
      if (!is_null(v) && !get_int(c, v, std::string(key), &n)) return false;
    }
    // Everything else (logit_bias, metadata, modalities, audio, prediction,
    // service_tier, functions, function_call, verbosity, prompt_cache_key,
    // safety_identifier, and
    // fields OpenAI adds later) is accepted and ignored: see docs/api.md.
  }
  // Trailing bytes after the object (e.g. `{} x`): simdjson 3.0 has no
  // document::at_end(); current_location() fails only once everything was consumed.
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return malformed();
  if (!has_model) return c.fail("model", "Missing required parameter: 'model'.");
  if (job.model.empty()) return c.fail("model", "Invalid value for 'model': must not be empty.");
  if (!has_messages) return c.fail("messages", "Missing required parameter: 'messages'.");
  if (job.messages.empty()) {
    return c.fail("messages",
                  "Invalid 'messages': empty array. Expected an array with minimum length 1.");
  }
  job.max_tokens = max_completion_tokens > 0 ? max_completion_tokens : max_tokens;
  // tools and tool_choice are checked together, after both were read (any order).
  std::vector<std::string> tool_names;
  if (!job.tools.empty() && !validate_tools(c, job.tools, &tool_names)) return false;
  if (!validate_tool_choice(c, job.tool_choice, tool_names)) return false;
  // The conversation's identity, for continuing it upstream.
  conversation::fill_history(&job);
  return true;
}

}  // namespace qp::frontend
