#include "frontend/responses/responses_request.h"

#include "common/conversation/history_key.h"
#include "common/json/writer.h"
#include "frontend/openai/chat_request.h"
#include "frontend/openai/json_fields.h"
#include "frontend/openai/media_parts.h"
#include "frontend/responses/responses_tools.h"

namespace qp::frontend::responses {
namespace {

using namespace fields;  // NOLINT: Ctx and the typed readers
using simdjson::ondemand::object;

std::string at(const std::string& param, size_t i) { return param + "[" + std::to_string(i) + "]"; }

// Messages and canonical items of a sequence of input items, in order.
struct ItemSink {
  std::vector<protocol::ChatMessage>* msgs;
  json::Writer* items;  // nullptr: no items wanted (stored history)
  uint64_t* bytes;
  attachments::Builder* media = nullptr;  // null: no media accepted (stored history)
  bool open_assistant = false;            // the last message is an assistant's that calls may join

  void message(const std::string& role, std::string text,
               std::vector<protocol::Attachment> files = {}) {
    if (items != nullptr) {
      items->begin_object().field("type", "message").field("role", role);
      items->field("content", text).end_object();
    }
    *bytes += text.size();
    protocol::ChatMessage m;
    m.role = role == "developer" ? "system" : role;
    m.content = std::move(text);
    m.attachments = std::move(files);
    open_assistant = m.role == "assistant";
    msgs->push_back(std::move(m));
  }
  void call(const std::string& call_id, const std::string& name, std::string_view arguments,
            const std::string& ns) {
    if (items != nullptr) {
      items->begin_object().field("type", "function_call").field("call_id", call_id);
      items->field("name", name).field("arguments", arguments);
      if (!ns.empty()) items->field("namespace", ns);
      items->end_object();
    }
    if (!open_assistant) {
      protocol::ChatMessage m;
      m.role = "assistant";
      msgs->push_back(std::move(m));
      open_assistant = true;
    }
    std::string& calls = msgs->back().tool_calls;
    if (calls.empty()) {
      calls.push_back('[');
    } else {
      calls.back() = ',';  // reopen the array
    }
    json::Writer w(&calls);
    w.begin_object().field("id", call_id).field("type", "function").key("function");
    w.begin_object().field("name", name).field("arguments", arguments).end_object().end_object();
    calls.push_back(']');
    *bytes += name.size() + arguments.size();
  }
  void output(const std::string& call_id, std::string text) {
    if (items != nullptr) {
      items->begin_object().field("type", "function_call_output").field("call_id", call_id);
      items->field("output", text).end_object();
    }
    *bytes += text.size();
    protocol::ChatMessage m;
    m.role = "tool";
    m.tool_call_id = call_id;
    m.content = std::move(text);
    open_assistant = false;
    msgs->push_back(std::move(m));
  }
};

// A message's or a function output's content: a string or text parts
// (input_text, output_text, text) joined with "\n"; input_image and
// input_file parts become attachments (frontend/attachments.h) where the
// sink takes them.
bool parse_content(Ctx& c, value v, const std::string& param, ItemSink& sink,
                   protocol::ChatMessage* m) {
  return text_content(
      c, v, param, &m->content,
      [&](const std::string& type, bool, const std::string& pp, const PartMedia& media) {
        if (type == "input_text" || type == "output_text" || type == "text") return PartUse::kText;
        if (type == "refusal") return PartUse::kSkip;  // an assistant refusal
        if ((type == "input_image" || type == "input_file") && sink.media != nullptr) {
          return add_media_part(c, *sink.media, type == "input_image", media, pp, m);
        }
        if (type == "input_image" || type == "input_file" || type == "input_audio") {
          c.fail(pp, "Content part type '" + type +
                         "' is not supported here; send text, images or files.");
        } else {
          c.fail(pp + ".type", "Invalid value for '" + pp + ".type': '" + type +
                                   "'. Supported values are: 'input_text', "
                                   "'input_image', 'input_file' and "
                                   "'output_text'.");
        }
        return PartUse::kFailed;
      });
}

// Item types of tools this gateway never offers the model: sent back only
// from a conversation held elsewhere; dropped like reasoning.
bool foreign_item(std::string_view type) {
  auto ends = [&](std::string_view s) {
    return type.size() >= s.size() && type.substr(type.size() - s.size()) == s;
  };
  return type == "reasoning" || type == "compaction" || type == "item_reference" || ends("_call") ||
         ends("_call_output") || ends("_output") || ends("_request") || ends("_response") ||
         ends("_list_tools");
}

bool parse_item(Ctx& c, value v, const std::string& p, ItemSink& sink) {
  object obj;
  if (v.get_object().get(obj)) return c.wrong_type(p, "an object", v);
  std::string type, role, call_id, name, ns, arguments_text;
  protocol::ChatMessage parsed;  // content and attachments
  std::string& content = parsed.content;
  std::string_view arguments;
  bool has_role = false, has_content = false, has_call_id = false, has_name = false,
       has_arguments = false, has_output = false;
  for (auto f : obj) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return c.fail(p, "Invalid JSON in input item.");
    value fv = f.value();
    if (k == "type") {
      if (!get_string(c, fv, p + ".type", &type)) return false;
    } else if (k == "role") {
      if (!get_string(c, fv, p + ".role", &role)) return false;
      has_role = true;
    } else if (k == "content") {
      if (!parse_content(c, fv, p + ".content", sink, &parsed)) return false;
      has_content = true;
    } else if (k == "output") {
      if (!parse_content(c, fv, p + ".output", sink, &parsed)) return false;
      has_output = true;
    } else if (k == "call_id") {
      if (!get_string(c, fv, p + ".call_id", &call_id)) return false;
      has_call_id = true;
    } else if (k == "name") {
      if (!get_string(c, fv, p + ".name", &name)) return false;
      has_name = true;
    } else if (k == "namespace") {
      if (!is_null(fv) && !get_string(c, fv, p + ".namespace", &ns)) return false;
    } else if (k == "arguments") {
      if (!get_string(c, fv, p + ".arguments", &arguments_text)) return false;
      arguments = arguments_text;
      has_arguments = true;
    }
    // id, status, summary, encrypted_content, phase…: ignored.
  }
  if (type.empty() && has_role) type = "message";
  if (type == "message") {
    if (!has_role) return c.missing(p + ".role");
    if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
      return c.fail(p + ".role", "Invalid value for '" + p + ".role': '" + role +
                                     "'. Supported values are: 'user', 'assistant', 'system' "
                                     "and 'developer'.");
    }
    if (!has_content) return c.missing(p + ".content");
    if (!parsed.attachments.empty() && role != "user")
      return c.fail(p + ".content", "Images and files are only accepted in user messages.");
    sink.message(role, std::move(content), std::move(parsed.attachments));
  } else if (type == "function_call") {
    if (!has_call_id) return c.missing(p + ".call_id");
    if (!has_name) return c.missing(p + ".name");
    if (!has_arguments) return c.missing(p + ".arguments");
    sink.call(call_id, name, arguments, ns);
  } else if (type == "function_call_output") {
    if (!has_call_id) return c.missing(p + ".call_id");
    if (!has_output) return c.missing(p + ".output");
    if (!parsed.attachments.empty())
      return c.fail(p + ".output", "Images and files are only accepted in user messages.");
    sink.output(call_id, std::move(content));
  } else if (type.empty()) {
    return c.missing(p + ".type");
  } else if (!foreign_item(type)) {
    return c.fail(p + ".type", "Invalid value for '" + p + ".type': '" + type +
                                   "' is not an input item type this gateway accepts.");
  }
  return true;
}

bool parse_input(Ctx& c, value v, ItemSink& sink) {
  json_type t;
  if (v.type().get(t)) return c.fail("input", "Invalid JSON in 'input'.");
  if (t == json_type::string) {
    std::string text;
    if (!get_string(c, v, "input", &text)) return false;
    sink.message("user", std::move(text));
    return true;
  }
  simdjson::ondemand::array arr;
  if (t != json_type::array || v.get_array().get(arr))
    return c.wrong_type("input", "a string or an array of input items", v);
  size_t i = 0;
  for (auto item : arr) {
    value iv;
    if (item.get(iv)) return c.fail("input", "Invalid JSON in 'input'.");
    if (!parse_item(c, iv, at("input", i++), sink)) return false;
  }
  return true;
}

bool parse_reasoning(Ctx& c, value v, ResponsesRequest* r) {
  object obj;
  if (v.get_object().get(obj)) return c.wrong_type("reasoning", "an object", v);
  for (auto f : obj) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return c.fail("reasoning", "Invalid JSON in 'reasoning'.");
    value fv = f.value();
    if (is_null(fv)) continue;
    if (k == "effort") {
      if (!get_string(c, fv, "reasoning.effort", &r->reasoning_effort)) return false;
      // The chat route's mapping (docs/api.md "Thinking"): thinking on/off
      // and Qwen's thinking budget, as JobRequest.features.
      if (!apply_reasoning_effort(r->reasoning_effort, &r->job.features)) {
        return c.fail("reasoning.effort",
                      "Invalid value for 'reasoning.effort': expected 'none', 'minimal', 'low', "
                      "'medium', 'high' or 'xhigh'.");
      }
      r->thinking = r->job.features.thinking == 1;
    } else if (k == "summary" || k == "generate_summary") {
      if (!get_string(c, fv, "reasoning.summary", &r->reasoning_summary)) return false;
    }
  }
  return true;
}

// text: {format: {type: text | json_object | json_schema, name, schema, strict}, verbosity}
bool parse_text(Ctx& c, value v, ResponsesRequest* r) {
  object obj;
  if (v.get_object().get(obj)) return c.wrong_type("text", "an object", v);
  value fv;
  auto e = obj.find_field_unordered("format").get(fv);
  if (e == simdjson::NO_SUCH_FIELD || (!e && is_null(fv))) return true;
  if (e) return c.fail("text", "Invalid JSON in 'text'.");
  object fmt;
  if (fv.get_object().get(fmt)) return c.wrong_type("text.format", "an object", fv);
  std::string type, name;
  std::string_view schema;
  bool strict = false, has_strict = false;
  for (auto f : fmt) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return c.fail("text.format", "Invalid JSON in 'text.format'.");
    value x = f.value();
    if (k == "type") {
      if (!get_string(c, x, "text.format.type", &type)) return false;
    } else if (k == "name") {
      if (!get_string(c, x, "text.format.name", &name)) return false;
    } else if (k == "schema") {
      json_type t;
      if (x.type().get(t) || t != json_type::object)
        return c.wrong_type("text.format.schema", "an object (a JSON Schema)", x);
      if (!raw_json(c, x, "text.format.schema", &schema)) return false;
    } else if (k == "strict") {
      if (!is_null(x) && !get_bool(c, x, "text.format.strict", &strict)) return false;
      has_strict = !is_null(x);
    }
  }
  json::Writer echo(&r->text_format);
  if (type == "text") return true;
  if (type == "json_object") {
    r->want_json = true;
    r->job.response_format = R"({"type":"json_object"})";
    echo.begin_object().field("type", "json_object").end_object();
    return true;
  }
  if (type != "json_schema") {
    return c.fail("text.format.type",
                  "Invalid value for 'text.format.type': expected 'text', 'json_object' or "
                  "'json_schema'.");
  }
  if (name.empty()) return c.missing("text.format.name");
  if (schema.empty()) return c.missing("text.format.schema");
  r->want_json = true;
  json::Writer w(&r->job.response_format);
  w.begin_object().field("type", "json_schema").key("json_schema").begin_object();
  w.field("name", name).field_raw("schema", schema);
  if (has_strict) w.field("strict", strict);
  w.end_object().end_object();
  echo.begin_object().field("type", "json_schema").field("name", name).field_raw("schema", schema);
  echo.field("strict", strict).end_object();
  return true;
}

}  // namespace

std::string_view ResponsesRequest::namespace_of(std::string_view name) const {
  for (const auto& [fn, ns] : namespaces) {
    if (fn == name) return ns;
  }
  return {};
}

bool ResponsesRequestParser::parse(std::string_view body, ResponsesRequest* out, ApiError* err) {
  Ctx c{err};
  *out = ResponsesRequest{};
  padded_.assign(body);
  padded_.resize(body.size() + simdjson::SIMDJSON_PADDING);
  auto malformed = [&] {
    return c.fail("",
                  "We could not parse the JSON body of your request. (HINT: This likely means "
                  "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                  "payload, but what was sent was not valid JSON.)");
  };
  simdjson::ondemand::document doc;
  if (parser_.iterate(padded_.data(), body.size(), padded_.size()).get(doc)) return malformed();
  object root;
  if (doc.get_object().get(root)) return malformed();

  auto& job = out->job;
  bool has_model = false, has_input = false;
  std::vector<std::string> tool_names;
  ToolChoice tool_choice;
  json::Writer items(&out->input_items);
  items.begin_array();
  attachments::Builder media(*attachments_);
  ItemSink sink{&out->input, &items, &out->input_bytes, &media};
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed();
    value v = field.value();
    if (key == "model") {
      if (!get_string(c, v, "model", &job.model)) return false;
      has_model = true;
    } else if (key == "input") {
      if (!parse_input(c, v, sink)) return false;
      has_input = true;
    } else if (key == "instructions") {
      if (!is_null(v) && !get_string(c, v, "instructions", &out->instructions)) return false;
    } else if (key == "previous_response_id") {
      if (!is_null(v) && !get_string(c, v, "previous_response_id", &out->previous_response_id))
        return false;
    } else if (key == "stream") {
      if (!is_null(v) && !get_bool(c, v, "stream", &job.stream)) return false;
    } else if (key == "store") {
      if (!is_null(v) && !get_bool(c, v, "store", &out->store)) return false;
    } else if (key == "max_output_tokens") {
      if (is_null(v)) continue;
      if (!get_int(c, v, "max_output_tokens", &job.max_tokens)) return false;
      if (job.max_tokens < 1) {
        return c.fail("max_output_tokens",
                      "Invalid 'max_output_tokens': integer below minimum value. Expected a "
                      "value >= 1.");
      }
    } else if (key == "temperature") {
      if (is_null(v)) continue;
      if (!get_number(c, v, "temperature", &job.temperature) ||
          !range(c, "temperature", job.temperature, 0, 2))
        return false;
    } else if (key == "top_p") {
      if (is_null(v)) continue;
      if (!get_number(c, v, "top_p", &job.top_p) || !range(c, "top_p", job.top_p, 0, 1))
        return false;
    } else if (key == "tools") {
      if (!is_null(v) && !parse_tools(c, v, out, &tool_names)) return false;
    } else if (key == "tool_choice") {
      if (!is_null(v) && !parse_tool_choice(c, v, &tool_choice)) return false;
    } else if (key == "parallel_tool_calls") {
      if (!is_null(v) && !get_bool(c, v, "parallel_tool_calls", &job.parallel_tool_calls))
        return false;
    } else if (key == "reasoning") {
      if (!is_null(v) && !parse_reasoning(c, v, out)) return false;
    } else if (key == "text") {
      if (!is_null(v) && !parse_text(c, v, out)) return false;
    } else if (key == "user" || key == "safety_identifier") {
      if (!is_null(v) && !get_string(c, v, std::string(key), &job.user)) return false;
    } else if (key == "metadata") {
      if (is_null(v)) continue;
      json_type t;
      if (v.type().get(t) || t != json_type::object)
        return c.wrong_type("metadata", "an object", v);
      std::string_view raw;
      if (!raw_json(c, v, "metadata", &raw)) return false;
      out->metadata.assign(raw);
    } else if (key == "qwen_chat_id") {
      if (!is_null(v) && !get_string(c, v, "qwen_chat_id", &job.chat_id)) return false;
    }
    // Everything else (include, prompt_cache_key, client_metadata, truncation,
    // service_tier, background, top_logprobs, max_tool_calls, stream_options,
    // prompt, conversation, and fields OpenAI adds later) is accepted and
    // ignored: see docs/api.md.
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return malformed();
  items.end_array();
  if (!has_model) return c.missing("model");
  if (job.model.empty()) return c.fail("model", "Invalid value for 'model': must not be empty.");
  if (!has_input && out->previous_response_id.empty()) return c.missing("input");
  if (out->input.empty() && out->previous_response_id.empty()) {
    return c.fail("input", "Invalid 'input': it holds no message to answer.");
  }
  if (!apply_tool_choice(c, tool_choice, tool_names, out)) return false;
  out->input_bytes += out->instructions.size();
  return true;
}

bool ResponsesRequestParser::parse_items(std::string_view items_json,
                                         std::vector<protocol::ChatMessage>* out, ApiError* err) {
  Ctx c{err};
  padded_.assign(items_json);
  padded_.resize(items_json.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  value v;
  uint64_t bytes = 0;
  ItemSink sink{out, nullptr, &bytes};
  if (parser_.iterate(padded_.data(), items_json.size(), padded_.size()).get(doc) ||
      doc.get_value().get(v))
    return c.fail("previous_response_id", "The stored response is unreadable.");
  return parse_input(c, v, sink);
}

void finish(ResponsesRequest* r, std::vector<protocol::ChatMessage> history) {
  auto& msgs = r->job.messages;
  msgs.clear();
  msgs.reserve(1 + history.size() + r->input.size());
  if (!r->instructions.empty()) {
    protocol::ChatMessage m;
    m.role = "system";
    m.content = r->instructions;
    msgs.push_back(std::move(m));
  }
  for (auto& m : history) msgs.push_back(std::move(m));
  for (auto& m : r->input) msgs.push_back(std::move(m));
  r->input.clear();
  conversation::fill_history(&r->job);
}

std::string join_arrays(std::initializer_list<std::string_view> arrays) {
  std::string out = "[";
  for (std::string_view a : arrays) {
    if (a.size() < 2) continue;
    std::string_view body = a.substr(1, a.size() - 2);
    if (body.empty()) continue;
    if (out.size() > 1) out.push_back(',');
    out.append(body);
  }
  out.push_back(']');
  return out;
}

}  // namespace qp::frontend::responses
