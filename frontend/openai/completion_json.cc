#include "frontend/openai/completion_json.h"

#include "common/json/writer.h"

namespace qp::frontend {

namespace {
void append_head(std::string* out, std::string_view id, std::string_view object, int64_t created,
                 std::string_view model) {
  out->append("{\"id\":");
  json::append_quoted(out, id);
  out->append(",\"object\":\"").append(object).append("\",\"created\":");
  out->append(std::to_string(created));
  out->append(",\"model\":");
  json::append_quoted(out, model);
  out->append(",\"system_fingerprint\":\"").append(kSystemFingerprint).append("\"");
}
}  // namespace

CompletionJson::CompletionJson(std::string_view completion_id, std::string_view model,
                               int64_t created_unix_s)
    : id_(completion_id), model_(model), created_(created_unix_s) {
  chunk_prefix_.reserve(160 + model.size());
  chunk_prefix_.append("data: ");
  append_head(&chunk_prefix_, id_, "chat.completion.chunk", created_, model_);
  chunk_prefix_.append(",\"choices\":[{\"index\":0,\"delta\":{");
}

void CompletionJson::append_role_event(std::string* out) const {
  out->append(chunk_prefix_);
  out->append(
      "\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

void CompletionJson::append_delta_event(std::string* out, std::string_view content,
                                        std::string_view reasoning) const {
  out->append(chunk_prefix_);
  bool first = true;
  if (!reasoning.empty()) {
    out->append("\"reasoning_content\":");
    json::append_quoted(out, reasoning);
    first = false;
  }
  if (!content.empty() || reasoning.empty()) {
    if (!first) out->push_back(',');
    out->append("\"content\":");
    json::append_quoted(out, content);
  }
  out->append("},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

void CompletionJson::append_tool_call_event(std::string* out,
                                            const protocol::ToolCallDelta& delta) const {
  out->append(chunk_prefix_);
  out->append("\"tool_calls\":[{\"index\":").append(std::to_string(delta.index));
  if (!delta.id.empty()) {
    out->append(",\"id\":");
    json::append_quoted(out, delta.id);
    out->append(",\"type\":\"function\",\"function\":{\"name\":");
    json::append_quoted(out, delta.name);
    out->append(",\"arguments\":");
  } else {
    out->append(",\"function\":{\"arguments\":");
  }
  json::append_quoted(out, delta.arguments);
  out->append("}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

int64_t count_code_points(std::string_view text) {
  int64_t n = 0;
  for (char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

void append_media(std::string* out, const std::vector<protocol::MediaItem>& media) {
  out->append("\"qwen_media\":");
  json::Writer w(out);
  w.begin_array();
  for (const auto& m : media) {
    w.begin_object().field("type", m.kind).field("url", m.url);
    if (!m.b64_json.empty()) w.field("b64_json", m.b64_json);
    w.end_object();
  }
  w.end_array();
}

void append_annotations(std::string* out, const std::vector<protocol::SearchSource>& sources,
                        int64_t content_chars) {
  out->append("\"annotations\":[");
  std::string end = std::to_string(content_chars);
  bool first = true;
  for (const auto& s : sources) {
    if (!first) out->push_back(',');
    first = false;
    out->append("{\"type\":\"url_citation\",\"url_citation\":{\"start_index\":0,\"end_index\":");
    out->append(end);
    out->append(",\"url\":");
    json::append_quoted(out, s.url);
    out->append(",\"title\":");
    json::append_quoted(out, s.title);
    out->append("}}");
  }
  out->push_back(']');
}

void CompletionJson::append_finish_event(std::string* out, std::string_view finish_reason,
                                         int json_valid, std::string_view qwen_chat_id,
                                         const std::vector<protocol::SearchSource>& sources,
                                         int64_t content_chars,
                                         const std::vector<protocol::MediaItem>& media) const {
  out->append(chunk_prefix_);
  if (!sources.empty()) append_annotations(out, sources, content_chars);
  if (!media.empty()) {
    if (!sources.empty()) out->push_back(',');
    append_media(out, media);
  }
  out->append("},\"logprobs\":null,\"finish_reason\":");
  json::append_quoted(out, finish_reason);
  out->append("}]");
  if (json_valid >= 0)
    out->append(json_valid ? ",\"qwen_json_valid\":true" : ",\"qwen_json_valid\":false");
  if (!qwen_chat_id.empty()) {
    out->append(",\"qwen_chat_id\":");
    json::append_quoted(out, qwen_chat_id);
  }
  out->append("}\n\n");
}

void append_usage_object(std::string* out, const protocol::Usage& u) {
  json::Writer w(out);
  w.begin_object()
      .field("prompt_tokens", u.prompt_tokens)
      .field("completion_tokens", u.completion_tokens)
      .field("total_tokens", u.total_tokens);
  // Always present, as OpenAI sends it: 0 for a model that did not reason.
  w.key("completion_tokens_details")
      .begin_object()
      .field("reasoning_tokens", u.reasoning_tokens)
      .end_object();
  w.end_object();
}

void CompletionJson::append_usage_event(std::string* out, const protocol::Usage& usage) const {
  out->append("data: ");
  append_head(out, id_, "chat.completion.chunk", created_, model_);
  out->append(",\"choices\":[],\"usage\":");
  append_usage_object(out, usage);
  out->append("}\n\n");
}

std::string CompletionJson::completion(std::string_view content, std::string_view reasoning,
                                       std::string_view finish_reason, const protocol::Usage& usage,
                                       std::string_view qwen_chat_id, int json_valid,
                                       const std::vector<ToolCall>& tool_calls,
                                       const std::vector<protocol::SearchSource>& sources,
                                       const std::vector<protocol::MediaItem>& media) const {
  std::string out;
  out.reserve(256 + content.size() + reasoning.size());
  append_head(&out, id_, "chat.completion", created_, model_);
  out.append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
  if (content.empty() && !tool_calls.empty())
    out.append("null");
  else
    json::append_quoted(&out, content);
  if (!reasoning.empty()) {
    out.append(",\"reasoning_content\":");
    json::append_quoted(&out, reasoning);
  }
  if (!tool_calls.empty()) {
    json::Writer w(&out);
    out.append(",\"tool_calls\":");
    w.begin_array();
    for (const auto& c : tool_calls) {
      w.begin_object().field("id", c.id).field("type", "function").key("function");
      w.begin_object().field("name", c.name).field("arguments", c.arguments).end_object();
      w.end_object();
    }
    w.end_array();
  }
  out.append(",\"refusal\":null,");
  append_annotations(&out, sources, count_code_points(content));
  if (!media.empty()) {
    out.push_back(',');
    append_media(&out, media);
  }
  out.append("},\"logprobs\":null,\"finish_reason\":");
  json::append_quoted(&out, finish_reason);
  out.append("}],\"usage\":");
  append_usage_object(&out, usage);
  if (!qwen_chat_id.empty()) {
    // Extension field (the old proxy's name); OpenAI SDKs ignore unknown fields.
    out.append(",\"qwen_chat_id\":");
    json::append_quoted(&out, qwen_chat_id);
  }
  // Extension: whether the answer parsed as JSON (response_format JSON modes).
  if (json_valid >= 0)
    out.append(json_valid ? ",\"qwen_json_valid\":true" : ",\"qwen_json_valid\":false");
  out.push_back('}');
  return out;
}

}  // namespace qp::frontend
