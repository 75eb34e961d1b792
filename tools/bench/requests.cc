#include "tools/bench/requests.h"

#include <array>

#include "common/json/writer.h"

namespace qp::bench {
namespace {

constexpr std::string_view kWebVersion = "0.2.68";  // worker/qwen_requests.h
constexpr std::string_view kCompletionVersion = "2.1";
constexpr int64_t kThinkingBudget = 38912;

void header(std::string* out, std::string_view name, std::string_view value) {
  out->append(name).append(": ").append(value).append("\r\n");
}

void qwen_headers(std::string* out, const QwenShape& s, bool completion,
                  std::string_view referer_path, std::string_view chat_id,
                  std::string_view request_uuid) {
  std::string origin = "http://";
  origin.append(s.host);
  header(out, "Accept", completion ? "text/event-stream" : "application/json, text/plain, */*");
  header(out, "Accept-Language", "en-US,en;q=0.9");
  header(out, "Accept-Encoding", "identity");
  header(out, "Content-Type", "application/json");
  header(out, "User-Agent", s.user_agent);
  header(out, "Origin", origin);
  out->append("Referer: ").append(origin).append(referer_path).append(chat_id).append("\r\n");
  header(out, "Sec-Fetch-Dest", "empty");
  header(out, "Sec-Fetch-Mode", "cors");
  header(out, "Sec-Fetch-Site", "same-origin");
  header(out, "source", "web");
  header(out, "version", kWebVersion);
  header(out, "x-request-id", request_uuid);
  header(out, "timezone", s.timezone);
  if (completion) header(out, "x-accel-buffering", "no");
  out->append("Authorization: Bearer ").append(s.jwt).append("\r\n");
  out->append("Cookie: token=").append(s.jwt).append("\r\n");
}

}  // namespace

std::string openai_request(const OpenAiShape& s) {
  std::string body;
  json::Writer w(&body);
  w.begin_object();
  w.field("model", s.model);
  w.key("messages").begin_array().begin_object();
  w.field("role", "user").field("content", s.prompt);
  w.end_object().end_array();
  w.field("stream", s.stream);
  w.end_object();
  std::string out = "POST /v1/chat/completions HTTP/1.1\r\n";
  header(&out, "Host", s.host);
  header(&out, "Content-Type", "application/json");
  header(&out, "Accept", s.stream ? "text/event-stream" : "application/json");
  if (!s.api_key.empty()) out.append("Authorization: Bearer ").append(s.api_key).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out.append(body);
  return out;
}

void fake_uuid(uint64_t seq, uint32_t salt, char out[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  // 32 hex digits: salt (8) + seq (16) + fixed (8), with the v4 markers.
  std::array<char, 32> d{};
  for (int i = 0; i < 8; ++i) d[i] = kHex[(salt >> (28 - 4 * i)) & 0xF];
  for (int i = 0; i < 16; ++i) d[8 + i] = kHex[(seq >> (60 - 4 * i)) & 0xF];
  for (int i = 24; i < 32; ++i) d[i] = 'b';
  d[12] = '4';
  d[16] = '8';
  int j = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[j++] = '-';
    out[j++] = d[i];
  }
}

void qwen_new_chat_request(const QwenShape& s, int64_t timestamp_ms, uint64_t seq,
                           std::string* out) {
  std::string body;
  json::Writer w(&body);
  w.begin_object();
  w.field("title", "New Chat");
  w.key("models").begin_array().value(s.model).end_array();
  w.field("chat_mode", "normal");
  w.field("chat_type", "t2t");
  w.field("timestamp", timestamp_ms);
  w.field("project_id", "");
  w.end_object();
  char rid[36];
  fake_uuid(seq, 0x6e657763, rid);
  out->clear();
  out->append("POST /api/v2/chats/new HTTP/1.1\r\n");
  qwen_headers(out, s, false, "/c/new-chat", "", std::string_view(rid, 36));
  header(out, "Host", s.host);
  out->append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out->append(body);
}

void qwen_completion_request(const QwenShape& s, std::string_view chat_id, int64_t timestamp_s,
                             uint64_t seq, std::string* body, std::string* out) {
  char fid[36];
  char child[36];
  char rid[36];
  fake_uuid(seq, 0x66696421, fid);
  fake_uuid(seq, 0x6368696c, child);
  fake_uuid(seq, 0x72657121, rid);
  body->clear();
  json::Writer w(body);
  w.begin_object();
  w.field("stream", true);
  w.field("version", kCompletionVersion);
  w.field("incremental_output", true);
  w.field("chat_id", chat_id);
  w.field("chat_mode", "normal");
  w.field("model", s.model);
  w.field_null("parent_id");
  w.key("messages").begin_array().begin_object();
  w.field("fid", std::string_view(fid, 36));
  w.field_null("parentId");
  w.key("childrenIds").begin_array().value(std::string_view(child, 36)).end_array();
  w.field("role", "user");
  w.field("content", s.prompt);
  w.field("user_action", "chat");
  w.key("files").begin_array().end_array();
  w.field("timestamp", timestamp_s);
  w.key("models").begin_array().value(s.model).end_array();
  w.field("chat_type", "t2t");
  w.key("feature_config").begin_object();
  w.field("thinking_enabled", false);
  w.field("output_schema", "phase");
  w.field("thinking_budget", kThinkingBudget);
  w.field("research_mode", "normal");
  w.field("auto_thinking", false);
  w.field("thinking_mode", "Fast");
  w.field("thinking_format", "summary");
  w.field("auto_search", false);
  w.end_object();
  w.key("extra").begin_object().key("meta").begin_object();
  w.field("subChatType", "t2t");
  w.end_object().end_object();
  w.field("sub_chat_type", "t2t");
  w.field_null("parent_id");
  w.end_object().end_array();
  w.field("timestamp", timestamp_s);
  w.end_object();

  out->clear();
  out->append("POST /api/v2/chat/completions?chat_id=").append(chat_id).append(" HTTP/1.1\r\n");
  qwen_headers(out, s, true, "/c/", chat_id, std::string_view(rid, 36));
  header(out, "Host", s.host);
  out->append("Content-Length: ").append(std::to_string(body->size())).append("\r\n\r\n");
  out->append(*body);
}

std::string_view new_chat_id(std::string_view body) {
  if (body.find("\"success\":true") == std::string_view::npos) return {};
  size_t data = body.find("\"data\":");
  if (data == std::string_view::npos) return {};
  static constexpr std::string_view kId = "\"id\":\"";
  size_t id = body.find(kId, data);
  if (id == std::string_view::npos) return {};
  id += kId.size();
  size_t end = body.find('"', id);
  if (end == std::string_view::npos || end == id) return {};
  return body.substr(id, end - id);
}

std::string prompt_of_words(int words) {
  static constexpr std::array<std::string_view, 8> kWords = {"alpha",   "beta", "gamma", "delta",
                                                             "epsilon", "zeta", "eta",   "theta"};
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (i > 0) out.push_back(' ');
    out.append(kWords[static_cast<size_t>(i) % kWords.size()]);
  }
  return out;
}

}  // namespace qp::bench
