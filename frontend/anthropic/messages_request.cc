#include "frontend/anthropic/messages_request.h"

#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "common/conversation/history_key.h"
#include "common/json/writer.h"
#include "frontend/attachments/attachments.h"
#include "frontend/openai/json_problem.h"

namespace qp::frontend::anthropic {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

constexpr size_t kMaxStopSequences = 4;  // what the worker's stop filter takes
constexpr size_t kMaxToolName = 128;

struct Ctx {
  ApiError* err;
  bool fail(const std::string& param, std::string message) {
    *err = ApiError::invalid(param, std::move(message));
    return false;
  }
  bool wrong_type(const std::string& param, const char* want, value v) {
    json_type t;
    std::string got = v.type().get(t) ? std::string("invalid JSON") : json_type_name(t);
    return fail(param, param + ": expected " + want + ", but got " + got + ".");
  }
  bool bad_value(const std::string& param, const char* want, value v, simdjson::error_code e) {
    std::string why = json_problem(e, param, v.raw_json_token());
    if (!why.empty()) return fail(param, std::move(why));
    return wrong_type(param, want, v);
  }
  bool missing(const std::string& param) { return fail(param, param + ": Field required"); }
};

bool is_null(value v) {
  bool n = false;
  return !v.is_null().get(n) && n;
}

bool get_string(Ctx& c, value v, const std::string& param, std::string* out) {
  std::string_view s;
  if (auto e = v.get_string().get(s)) return c.bad_value(param, "a string", v, e);
  out->assign(s);
  return true;
}

bool get_number(Ctx& c, value v, const std::string& param, double* out) {
  if (auto e = v.get_double().get(*out)) return c.bad_value(param, "a number", v, e);
  if (!std::isfinite(*out)) return c.bad_value(param, "a number", v, simdjson::NUMBER_OUT_OF_RANGE);
  return true;
}

bool get_int(Ctx& c, value v, const std::string& param, int64_t* out) {
  double d;
  if (auto e = v.get_double().get(d)) return c.bad_value(param, "an integer", v, e);
  if (!std::isfinite(d) || std::fabs(d) > 9e15)
    return c.fail(param, param + ": integer out of range.");
  if (d != std::floor(d)) return c.wrong_type(param, "an integer", v);
  *out = static_cast<int64_t>(d);
  return true;
}

bool range(Ctx& c, const std::string& param, double x, double lo, double hi) {
  if (x >= lo && x <= hi) return true;
  char b[96];
  std::snprintf(b, sizeof b, ": must be between %g and %g.", lo, hi);
  return c.fail(param, param + b);
}

// The JSON text of `v` (an object or array), as written.
bool raw_json(Ctx& c, value v, const std::string& param, std::string_view* out) {
  if (simdjson::to_json_string(v).get(*out)) return c.fail(param, param + ": invalid JSON.");
  return true;
}

// The `type` of a content block (or a tool, thinking…), looked up wherever it is.
bool block_type(Ctx& c, object& obj, const std::string& param, std::string* type) {
  value v;
  auto e = obj.find_field_unordered("type").get(v);
  if (e == simdjson::NO_SUCH_FIELD) return c.missing(param + ".type");
  if (e) return c.fail(param, param + ": invalid JSON.");
  return get_string(c, v, param + ".type", type);
}

// An optional field: false with *found == false when absent.
bool optional_field(Ctx& c, object& obj, std::string_view key, const std::string& param, value* v,
                    bool* found) {
  auto e = obj.find_field_unordered(key).get(*v);
  *found = false;
  if (e == simdjson::NO_SUCH_FIELD) return true;
  if (e) return c.fail(param, param + ": invalid JSON.");
  *found = !is_null(*v);
  return true;
}

bool refuse_media(Ctx& c, const std::string& param, const std::string& type) {
  return c.fail(
      param, param + ": content blocks of type '" + type + "' are only accepted in user messages.");
}

// An image or document block {source: {type: base64|url|text, media_type,
// data|url}} → an attachment (frontend/attachments.h).
bool parse_media_block(Ctx& c, object& block, const std::string& bp, const std::string& type,
                       attachments::Builder& b, std::vector<protocol::Attachment>* out) {
  value sv;
  bool found;
  if (!optional_field(c, block, "source", bp, &sv, &found)) return false;
  if (!found) return c.missing(bp + ".source");
  object src;
  if (sv.get_object().get(src)) return c.wrong_type(bp + ".source", "an object", sv);
  std::string sp = bp + ".source";
  std::string source_type;
  if (!block_type(c, src, sp, &source_type)) return false;
  attachments::MediaInput in;
  in.image = type == "image";
  value v;
  auto view = [&](const char* key, std::string_view* dst) {
    if (!optional_field(c, src, key, sp, &v, &found)) return false;
    if (!found) return c.missing(sp + "." + key);
    if (auto e = v.get_string().get(*dst)) return c.bad_value(sp + "." + key, "a string", v, e);
    return true;
  };
  if (source_type == "base64") {
    if (!view("data", &in.base64)) return false;
  } else if (source_type == "url") {
    if (!view("url", &in.url)) return false;
    if (in.url.rfind("http", 0) != 0) {
      return c.fail(sp + ".url", sp + ".url: expected an http(s) URL.");
    }
  } else if (source_type == "text" && !in.image) {
    if (!view("data", &in.raw)) return false;
  } else {
    return c.fail(sp + ".type", sp + ".type: source type '" + source_type +
                                    "' is not supported; use base64 or url" +
                                    (in.image ? "." : " (or text)."));
  }
  attachments::Refusal why;
  out->emplace_back();
  if (!b.add(in, &out->back(), &why)) {
    *c.err = ApiError{Code::kInvalidArgument, bp + ": " + why.message, bp, why.code, 0};
    return false;
  }
  return true;
}

void join(std::string* out, std::string_view text) {
  if (!out->empty()) out->push_back('\n');
  out->append(text);
}

// Text of a `system`, system-message or tool_result content: a string or
// text blocks (others refused).
bool parse_text_content(Ctx& c, value v, const std::string& param, std::string* out) {
  json_type t;
  if (v.type().get(t)) return c.fail(param, param + ": invalid JSON.");
  if (t == json_type::null) return true;
  if (t == json_type::string) return get_string(c, v, param, out);
  simdjson::ondemand::array arr;
  if (t != json_type::array || v.get_array().get(arr))
    return c.wrong_type(param, "a string or an array of content blocks", v);
  size_t j = 0;
  for (auto item : arr) {
    std::string bp = param + "." + std::to_string(j++);
    object block;
    if (item.get_object().get(block)) return c.fail(bp, bp + ": expected an object.");
    std::string type;
    if (!block_type(c, block, bp, &type)) return false;
    if (type == "text") {
      value tv;
      bool found;
      if (!optional_field(c, block, "text", bp, &tv, &found)) return false;
      if (!found) return c.missing(bp + ".text");
      std::string text;
      if (!get_string(c, tv, bp + ".text", &text)) return false;
      join(out, text);
    } else if (type == "image" || type == "document" || type == "search_result") {
      return refuse_media(c, bp, type);
    } else {
      return c.fail(bp + ".type", bp + ".type: unexpected content block type '" + type + "'.");
    }
  }
  return true;
}

struct MessageSink {
  std::vector<protocol::ChatMessage>* out;
  uint64_t* bytes;
  protocol::ChatMessage& add(const char* role) {
    out->emplace_back();
    out->back().role = role;
    return out->back();
  }
};

// tool_use {id, name, input} → one OpenAI tool call in *w.
bool parse_tool_use(Ctx& c, object& block, const std::string& bp, json::Writer* w) {
  std::string id, name;
  value v;
  bool found;
  if (!optional_field(c, block, "id", bp, &v, &found)) return false;
  if (!found) return c.missing(bp + ".id");
  if (!get_string(c, v, bp + ".id", &id)) return false;
  if (!optional_field(c, block, "name", bp, &v, &found)) return false;
  if (!found) return c.missing(bp + ".name");
  if (!get_string(c, v, bp + ".name", &name)) return false;
  std::string_view input = "{}";
  if (!optional_field(c, block, "input", bp, &v, &found)) return false;
  if (found) {
    json_type t;
    if (v.type().get(t) || t != json_type::object)
      return c.wrong_type(bp + ".input", "an object", v);
    if (!raw_json(c, v, bp + ".input", &input)) return false;
  }
  w->begin_object().field("id", id).field("type", "function").key("function");
  w->begin_object().field("name", name).field("arguments", input).end_object();
  w->end_object();
  return true;
}

// tool_result {tool_use_id, content?, is_error?} → a tool message.
bool parse_tool_result(Ctx& c, object& block, const std::string& bp, MessageSink& sink) {
  protocol::ChatMessage m;
  m.role = "tool";
  value v;
  bool found;
  if (!optional_field(c, block, "tool_use_id", bp, &v, &found)) return false;
  if (!found) return c.missing(bp + ".tool_use_id");
  if (!get_string(c, v, bp + ".tool_use_id", &m.tool_call_id)) return false;
  bool is_error = false;
  if (!optional_field(c, block, "is_error", bp, &v, &found)) return false;
  if (found && v.get_bool().get(is_error)) return c.wrong_type(bp + ".is_error", "a boolean", v);
  if (!optional_field(c, block, "content", bp, &v, &found)) return false;
  if (found && !parse_text_content(c, v, bp + ".content", &m.content)) return false;
  if (is_error) m.content.insert(0, "Error: ");
  *sink.bytes += m.content.size();
  sink.out->push_back(std::move(m));
  return true;
}

bool parse_message(Ctx& c, value v, size_t i, MessageSink& sink, attachments::Builder& media) {
  std::string p = "messages." + std::to_string(i);
  object obj;
  if (v.get_object().get(obj)) return c.wrong_type(p, "an object", v);
  std::string role;
  value rv;
  bool found;
  if (!optional_field(c, obj, "role", p, &rv, &found)) return false;
  if (!found) return c.missing(p + ".role");
  if (!get_string(c, rv, p + ".role", &role)) return false;
  if (role != "user" && role != "assistant" && role != "system") {
    return c.fail(p + ".role", p + ".role: Input should be 'user', 'assistant' or 'system'.");
  }
  value cv;
  if (!optional_field(c, obj, "content", p, &cv, &found)) return false;
  if (!found) return c.missing(p + ".content");
  if (role == "system") {
    auto& m = sink.add("system");
    if (!parse_text_content(c, cv, p + ".content", &m.content)) return false;
    *sink.bytes += m.content.size();
    return true;
  }
  json_type t;
  if (cv.type().get(t)) return c.fail(p + ".content", p + ".content: invalid JSON.");
  if (t == json_type::string) {
    auto& m = sink.add(role == "user" ? "user" : "assistant");
    if (!get_string(c, cv, p + ".content", &m.content)) return false;
    *sink.bytes += m.content.size();
    return true;
  }
  simdjson::ondemand::array arr;
  if (t != json_type::array || cv.get_array().get(arr))
    return c.wrong_type(p + ".content", "a string or an array of content blocks", cv);
  std::string text, tool_calls;
  std::vector<protocol::Attachment> files;
  json::Writer calls(&tool_calls);
  bool any_call = false, any_result = false;
  size_t j = 0;
  for (auto item : arr) {
    std::string bp = p + ".content." + std::to_string(j++);
    object block;
    if (item.get_object().get(block)) return c.fail(bp, bp + ": expected an object.");
    std::string type;
    if (!block_type(c, block, bp, &type)) return false;
    if (type == "text") {
      value tv;
      if (!optional_field(c, block, "text", bp, &tv, &found)) return false;
      if (!found) return c.missing(bp + ".text");
      std::string_view s;
      if (auto e = tv.get_string().get(s)) return c.bad_value(bp + ".text", "a string", tv, e);
      join(&text, s);
    } else if (type == "tool_use" && role == "assistant") {
      if (!any_call) calls.begin_array();
      any_call = true;
      if (!parse_tool_use(c, block, bp, &calls)) return false;
    } else if (type == "tool_result" && role == "user") {
      // The user's text before a tool result (unusual) keeps its place.
      if (!text.empty()) {
        sink.add("user").content = std::move(text);
        *sink.bytes += sink.out->back().content.size();
        text.clear();
      }
      any_result = true;
      if (!parse_tool_result(c, block, bp, sink)) return false;
    } else if (type == "thinking" || type == "redacted_thinking") {
      // Thinking sent back: not part of the prompt (as reasoning_content).
    } else if ((type == "image" || type == "document") && role == "user") {
      if (!parse_media_block(c, block, bp, type, media, &files)) return false;
    } else if (type == "image" || type == "document" || type == "search_result") {
      return refuse_media(c, bp, type);
    } else if (type == "server_tool_use" || type == "web_search_tool_result" ||
               type == "web_fetch_tool_result" || type == "code_execution_tool_result" ||
               type == "container_upload" || type == "mcp_tool_use" || type == "mcp_tool_result") {
      // Results of Anthropic-run tools: nothing this gateway can use.
    } else {
      return c.fail(bp + ".type", bp + ".type: unexpected content block type '" + type + "' in a " +
                                      role + " message.");
    }
  }
  if (role == "assistant") {
    auto& m = sink.add("assistant");
    m.content = std::move(text);
    if (any_call) {
      calls.end_array();
      m.tool_calls = std::move(tool_calls);
    }
    *sink.bytes += m.content.size() + m.tool_calls.size();
  } else if (!text.empty() || !any_result || !files.empty()) {
    auto& m = sink.add("user");
    m.content = std::move(text);
    m.attachments = std::move(files);
    *sink.bytes += m.content.size();
  }
  return true;
}

bool valid_tool_name(std::string_view n) {
  if (n.empty() || n.size() > kMaxToolName) return false;
  for (char ch : n) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-')) return false;
  }
  return true;
}

// tools → an OpenAI tools array in *out; names collected for tool_choice.
bool parse_tools(Ctx& c, value v, std::string* out, std::vector<std::string>* names) {
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) return c.wrong_type("tools", "an array", v);
  json::Writer w(out);
  w.begin_array();
  std::unordered_set<std::string> seen;  // duplicates, without a quadratic scan
  size_t i = 0;
  for (auto item : arr) {
    std::string tp = "tools." + std::to_string(i++);
    object tool;
    if (item.get_object().get(tool)) return c.fail(tp, tp + ": expected an object.");
    value fv;
    bool found;
    if (!optional_field(c, tool, "type", tp, &fv, &found)) return false;
    if (found) {
      std::string type;
      if (!get_string(c, fv, tp + ".type", &type)) return false;
      // Anthropic-run tools (web_search_…, bash_…, text_editor_…): ignored.
      if (type != "custom") continue;
    }
    std::string name, description;
    if (!optional_field(c, tool, "name", tp, &fv, &found)) return false;
    if (!found) return c.missing(tp + ".name");
    if (!get_string(c, fv, tp + ".name", &name)) return false;
    if (!valid_tool_name(name))
      return c.fail(tp + ".name",
                    tp + ".name: must be 1-128 characters of a-z, A-Z, 0-9, _ and -.");
    if (!seen.insert(name).second)
      return c.fail(tp + ".name", "Tool names must be unique: '" + name + "'.");
    if (!optional_field(c, tool, "description", tp, &fv, &found)) return false;
    if (found && !get_string(c, fv, tp + ".description", &description)) return false;
    std::string_view schema;
    if (!optional_field(c, tool, "input_schema", tp, &fv, &found)) return false;
    if (!found) return c.missing(tp + ".input_schema");
    json_type t;
    if (fv.type().get(t) || t != json_type::object)
      return c.wrong_type(tp + ".input_schema", "an object (a JSON Schema)", fv);
    if (!raw_json(c, fv, tp + ".input_schema", &schema)) return false;
    w.begin_object().field("type", "function").key("function").begin_object();
    w.field("name", name);
    if (!description.empty()) w.field("description", description);
    w.field_raw("parameters", schema).end_object().end_object();
    names->push_back(std::move(name));
  }
  w.end_array();
  if (names->empty()) out->clear();  // only server tools: none for the worker
  return true;
}

struct ToolChoice {
  std::string type;  // empty: not given
  std::string name;
  bool disable_parallel = false;
};

bool parse_tool_choice(Ctx& c, value v, ToolChoice* tc) {
  object obj;
  if (v.get_object().get(obj)) return c.wrong_type("tool_choice", "an object", v);
  if (!block_type(c, obj, "tool_choice", &tc->type)) return false;
  if (tc->type != "auto" && tc->type != "any" && tc->type != "tool" && tc->type != "none") {
    return c.fail("tool_choice.type",
                  "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'.");
  }
  value fv;
  bool found;
  if (!optional_field(c, obj, "disable_parallel_tool_use", "tool_choice", &fv, &found))
    return false;
  if (found && fv.get_bool().get(tc->disable_parallel))
    return c.wrong_type("tool_choice.disable_parallel_tool_use", "a boolean", fv);
  if (tc->type == "tool") {
    if (!optional_field(c, obj, "name", "tool_choice", &fv, &found)) return false;
    if (!found) return c.missing("tool_choice.name");
    if (!get_string(c, fv, "tool_choice.name", &tc->name)) return false;
  }
  return true;
}

bool apply_tool_choice(Ctx& c, const ToolChoice& tc, const std::vector<std::string>& names,
                       protocol::JobRequest* job) {
  if (tc.type.empty()) return true;
  job->parallel_tool_calls = !tc.disable_parallel;
  if (tc.type == "auto") {
    job->tool_choice = "\"auto\"";
  } else if (tc.type == "none") {
    job->tool_choice = "\"none\"";
  } else if (tc.type == "any") {
    if (names.empty())
      return c.fail("tool_choice", "tool_choice: 'any' needs at least one tool in 'tools'.");
    job->tool_choice = "\"required\"";
  } else {
    bool known = false;
    for (const auto& n : names) {
      if (n == tc.name) {
        known = true;
        break;
      }
    }
    if (!known)
      return c.fail("tool_choice.name", "tool_choice.name: no tool named '" + tc.name + "'.");
    json::Writer w(&job->tool_choice);
    w.begin_object().field("type", "function").key("function").begin_object();
    w.field("name", tc.name).end_object().end_object();
  }
  return true;
}

bool parse_thinking(Ctx& c, value v, MessagesRequest* out) {
  object obj;
  if (v.get_object().get(obj)) return c.wrong_type("thinking", "an object", v);
  std::string type;
  if (!block_type(c, obj, "thinking", &type)) return false;
  value fv;
  bool found;
  if (type == "enabled") {
    if (!optional_field(c, obj, "budget_tokens", "thinking", &fv, &found)) return false;
    if (!found) return c.missing("thinking.enabled.budget_tokens");
    int64_t budget;
    if (!get_int(c, fv, "thinking.enabled.budget_tokens", &budget)) return false;
    if (budget < 1)
      return c.fail("thinking.enabled.budget_tokens",
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1.");
    out->thinking = true;
    out->thinking_budget = budget;
  } else if (type == "adaptive") {
    out->thinking = true;
  } else if (type != "disabled") {
    return c.fail("thinking.type",
                  "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'.");
  }
  if (!optional_field(c, obj, "display", "thinking", &fv, &found)) return false;
  if (found) {
    std::string display;
    if (!get_string(c, fv, "thinking.display", &display)) return false;
    out->thinking_omitted = display == "omitted";
  }
  return true;
}

bool parse_stop_sequences(Ctx& c, value v, std::vector<std::string>* stop) {
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) return c.wrong_type("stop_sequences", "an array of strings", v);
  size_t i = 0;
  for (auto item : arr) {
    value sv;
    if (item.get(sv)) return c.fail("stop_sequences", "stop_sequences: invalid JSON.");
    std::string s;
    if (!get_string(c, sv, "stop_sequences." + std::to_string(i++), &s)) return false;
    if (!s.empty()) stop->push_back(std::move(s));
  }
  if (i > kMaxStopSequences) {
    return c.fail("stop_sequences",
                  "stop_sequences: this gateway supports at most 4 stop "
                  "sequences.");
  }
  return true;
}

}  // namespace

std::string map_model(const AnthropicConfig& cfg, std::string_view requested) {
  if (requested.substr(0, 6) != "claude") return std::string(requested);
  const std::string* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, model] : cfg.model_map) {
    if (prefix.size() >= best_len && requested.substr(0, prefix.size()) == prefix) {
      best = &model;
      best_len = prefix.size();
    }
  }
  return best != nullptr ? *best : cfg.default_model;
}

bool MessagesRequestParser::parse(std::string_view body, Mode mode, MessagesRequest* out,
                                  ApiError* err) {
  Ctx c{err};
  *out = MessagesRequest{};
  padded_.assign(body);
  padded_.resize(body.size() + simdjson::SIMDJSON_PADDING);
  auto malformed = [&] {
    return c.fail("", "The request body is not valid JSON: expected one JSON object.");
  };
  simdjson::ondemand::document doc;
  if (parser_.iterate(padded_.data(), body.size(), padded_.size()).get(doc)) return malformed();
  object root;
  if (doc.get_object().get(root)) return malformed();

  auto& job = out->job;
  std::string system;
  bool has_model = false, has_messages = false, has_max_tokens = false;
  std::vector<std::string> tool_names;
  ToolChoice tool_choice;
  MessageSink sink{&job.messages, &out->input_bytes};
  attachments::Builder media(*attachments_);
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed();
    value v = field.value();
    if (key == "model") {
      if (!get_string(c, v, "model", &out->requested_model)) return false;
      has_model = true;
    } else if (key == "max_tokens") {
      if (!get_int(c, v, "max_tokens", &job.max_tokens)) return false;
      if (job.max_tokens < 1)
        return c.fail("max_tokens", "max_tokens: Input should be greater than or equal to 1.");
      has_max_tokens = true;
    } else if (key == "messages") {
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr)) return c.wrong_type("messages", "an array", v);
      size_t i = 0;
      for (auto mv : arr) {
        value m;
        if (mv.get(m)) return malformed();
        if (!parse_message(c, m, i++, sink, media)) return false;
      }
      has_messages = i > 0;
      if (i == 0) return c.fail("messages", "messages: at least one message is required.");
    } else if (key == "system") {
      if (!parse_text_content(c, v, "system", &system)) return false;
    } else if (key == "stream") {
      if (!is_null(v) && v.get_bool().get(job.stream))
        return c.wrong_type("stream", "a boolean", v);
    } else if (key == "stop_sequences") {
      if (!is_null(v) && !parse_stop_sequences(c, v, &job.stop)) return false;
    } else if (key == "temperature") {
      if (is_null(v)) continue;
      if (!get_number(c, v, "temperature", &job.temperature) ||
          !range(c, "temperature", job.temperature, 0, 1))
        return false;
    } else if (key == "top_p") {
      if (is_null(v)) continue;
      if (!get_number(c, v, "top_p", &job.top_p) || !range(c, "top_p", job.top_p, 0, 1))
        return false;
    } else if (key == "top_k") {
      int64_t k;
      if (!is_null(v) && !get_int(c, v, "top_k", &k)) return false;
    } else if (key == "tools") {
      if (!is_null(v) && !parse_tools(c, v, &job.tools, &tool_names)) return false;
    } else if (key == "tool_choice") {
      if (!is_null(v) && !parse_tool_choice(c, v, &tool_choice)) return false;
    } else if (key == "thinking") {
      if (!is_null(v) && !parse_thinking(c, v, out)) return false;
    } else if (key == "metadata") {
      json_type t;
      if (!is_null(v) && (v.type().get(t) || t != json_type::object))
        return c.wrong_type("metadata", "an object", v);
    }
    // Everything else (output_config, context_management, service_tier,
    // container, mcp_servers, and fields Anthropic adds later) is accepted
    // and ignored: see docs/api.md.
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return malformed();
  if (!has_model) return c.missing("model");
  if (out->requested_model.empty()) return c.fail("model", "model: must not be empty.");
  if (!has_messages) return c.missing("messages");
  if (!has_max_tokens && mode == Mode::kMessages) return c.missing("max_tokens");
  if (!apply_tool_choice(c, tool_choice, tool_names, &job)) return false;
  if (!system.empty()) {
    protocol::ChatMessage m;
    m.role = "system";
    m.content = std::move(system);
    out->input_bytes += m.content.size();
    job.messages.insert(job.messages.begin(), std::move(m));
  }
  out->input_bytes += job.tools.size();
  job.model = out->requested_model;
  // The conversation's identity, exactly as the OpenAI route computes it.
  conversation::fill_history(&job);
  return true;
}

}  // namespace qp::frontend::anthropic
