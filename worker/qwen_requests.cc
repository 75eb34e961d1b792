#include "worker/qwen_requests.h"

#include <time.h>

#include <cctype>

#include "common/json/writer.h"
#include "common/model_variants.h"

namespace qp::worker {
namespace {

std::string header(std::string_view name, std::string_view value) {
  std::string h(name);
  h.append(": ");
  for (char c : value) {
    if (c != '\r' && c != '\n') h.push_back(c);  // no header injection from config values
  }
  return h;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view chat_type(bool search, bool deep_research) {
  return deep_research ? "deep_research" : search ? "search" : "t2t";
}

}  // namespace

std::string_view chat_type_of(const ModelVariant& v) {
  return chat_type(v.search, v.deep_research);
}

ModelVariant parse_model_variant(std::string_view model) {
  ModelVariant v;
  if (ends_with(model, kDeepResearchSuffix)) {
    v.deep_research = true;
    model.remove_suffix(kDeepResearchSuffix.size());
  }
  if (ends_with(model, "-search")) {
    v.search = true;
    model.remove_suffix(7);
  }
  if (ends_with(model, "-thinking")) {
    v.thinking = true;
    model.remove_suffix(9);
  }
  v.upstream_model = std::string(model);
  return v;
}

ModelVariant apply_features(ModelVariant v, const protocol::JobFeatures& f) {
  if (f.search) v.search = true;
  if (f.auto_search) v.auto_search = true;
  if (f.thinking >= 0) v.thinking = f.thinking > 0;
  return v;
}

std::string endpoint_url(Endpoint e, std::string_view base_url, std::string_view chat_id) {
  std::string url(base_url);
  switch (e) {
    case Endpoint::kModels:
      url += "/api/models";
      return url;
    case Endpoint::kModelsV2:
      url += "/api/v2/models/";
      return url;
    case Endpoint::kNewChat:
      url += "/api/v2/chats/new";
      return url;
    case Endpoint::kCompletion:
      url += "/api/v2/chat/completions?chat_id=";
      break;
    case Endpoint::kStop:
      url += "/api/v2/chat/completions/stop?chat_id=";
      break;
    case Endpoint::kDeleteChat:  // DELETE /api/v2/chats/<chat_id>
      url += "/api/v2/chats/";
      break;
    case Endpoint::kTaskStatus:  // GET /api/v1/tasks/status/<task_id>
      url += "/api/v1/tasks/status/";
      break;
    case Endpoint::kSts:
      url += "/api/v1/files/getstsToken";
      return url;
    case Endpoint::kFileParse:
      url += "/api/v2/files/parse";
      return url;
    case Endpoint::kFileParseStatus:
      url += "/api/v2/files/parse/status";
      return url;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : chat_id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      url.push_back(static_cast<char>(c));
    } else {
      url.push_back('%');
      url.push_back(kHex[c >> 4]);
      url.push_back(kHex[c & 0xF]);
    }
  }
  return url;
}

std::vector<std::string> build_headers(Endpoint e, const HeaderParams& p) {
  bool post = e == Endpoint::kNewChat || e == Endpoint::kCompletion || e == Endpoint::kStop ||
              e == Endpoint::kSts || e == Endpoint::kFileParse || e == Endpoint::kFileParseStatus;
  std::vector<std::string> h;
  h.reserve(20);
  h.push_back(header("Accept", e == Endpoint::kCompletion ? "text/event-stream"
                                                          : "application/json, text/plain, */*"));
  h.push_back(header("Accept-Language", "en-US,en;q=0.9"));
  h.push_back(header("Accept-Encoding", "identity"));
  if (post) h.push_back(header("Content-Type", "application/json"));
  h.push_back(header("User-Agent", p.user_agent));
  h.push_back(header("Origin", p.base_url));
  std::string referer(p.base_url);
  switch (e) {
    case Endpoint::kModels:
    case Endpoint::kModelsV2:
      referer += "/";
      break;
    case Endpoint::kNewChat:
    case Endpoint::kSts:
    case Endpoint::kFileParse:
    case Endpoint::kFileParseStatus:
      referer += "/c/new-chat";
      break;
    case Endpoint::kCompletion:
    case Endpoint::kStop:
    case Endpoint::kDeleteChat:
    case Endpoint::kTaskStatus:
      referer += "/c/";
      referer += p.chat_id;
      break;
  }
  h.push_back(header("Referer", referer));
  h.push_back(header("Sec-Fetch-Dest", "empty"));
  h.push_back(header("Sec-Fetch-Mode", "cors"));
  h.push_back(header("Sec-Fetch-Site", "same-origin"));
  h.push_back(header("source", "web"));
  h.push_back(header("version", kWebVersion));
  h.push_back(header("x-request-id", p.request_uuid));
  h.push_back(header("timezone", p.timezone));
  if (e == Endpoint::kCompletion) h.push_back(header("x-accel-buffering", "no"));
  if (!p.jwt.empty()) h.push_back(header("Authorization", std::string("Bearer ").append(p.jwt)));
  if (!p.bx_umidtoken.empty()) h.push_back(header("bx-umidtoken", p.bx_umidtoken));
  if (!p.bx_ua.empty()) h.push_back(header("bx-ua", p.bx_ua));
  if (!p.bx_v.empty()) h.push_back(header("bx-v", p.bx_v));
  // curl would send "Expect: 100-continue" for larger bodies and wait for
  // an interim response; browsers never do.
  if (post) h.emplace_back("Expect:");
  return h;
}

std::string js_date_string(std::time_t t) {
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a %b %d %Y %H:%M:%S GMT%z", &tm);
  return std::string(buf, n);
}

std::string new_chat_body(std::string_view model, std::string_view chat_type,
                          int64_t timestamp_ms) {
  std::string out;
  json::Writer w(&out);
  w.begin_object();
  w.field("title", "New Chat");
  w.key("models").begin_array().value(model).end_array();
  w.field("chat_mode", "normal");
  w.field("chat_type", chat_type);
  w.field("timestamp", timestamp_ms);
  w.field("project_id", "");
  w.end_object();
  return out;
}

std::string completion_body(const CompletionParams& p) {
  std::string_view type = chat_type(p.search, p.deep_research);
  std::string out;
  out.reserve(p.content.size() + 1024);
  json::Writer w(&out);
  w.begin_object();
  w.field("stream", true);
  w.field("version", kCompletionVersion);
  w.field("incremental_output", true);
  w.field("chat_id", p.chat_id);
  w.field("chat_mode", "normal");
  w.field("model", p.model);
  auto parent = [&](std::string_view key) {
    if (p.parent_id.empty())
      w.field_null(key);
    else
      w.field(key, p.parent_id);
  };
  parent("parent_id");
  w.key("messages").begin_array().begin_object();
  w.field("fid", p.fid);
  parent("parentId");
  w.key("childrenIds").begin_array().value(p.child_id).end_array();
  w.field("role", "user");
  if (p.media != nullptr && !p.media->empty()) {
    w.key("content").begin_array();
    w.begin_object().field("type", "text").field("text", p.content).end_object();
    for (const auto& m : *p.media)
      w.begin_object().field("type", m.type).field(m.type, m.url).end_object();
    w.end_array();
  } else {
    w.field("content", p.content);
  }
  w.field("user_action", "chat");
  w.key("files").begin_array().end_array();
  w.field("timestamp", p.timestamp_s);
  w.key("models").begin_array().value(p.model).end_array();
  w.field("chat_type", type);
  w.key("feature_config").begin_object();
  w.field("thinking_enabled", p.thinking);
  w.field("output_schema", "phase");
  w.field("thinking_budget", p.thinking_budget <= 0                   ? kThinkingBudget
                             : p.thinking_budget > kMaxThinkingBudget ? kMaxThinkingBudget
                                                                      : p.thinking_budget);
  // Every source sends "normal", deep research or not; no other value is
  // documented (docs/upstream.md "Deep research").
  w.field("research_mode", "normal");
  w.field("auto_thinking", false);
  w.field("thinking_mode", p.thinking ? "Thinking" : "Fast");
  // "detail" streams the reasoning as think-phase text (R21); the
  // interpreter also understands "summary" events if the site sends them.
  w.field("thinking_format", p.thinking ? "detail" : "summary");
  w.field("auto_search", p.search || p.auto_search);
  w.end_object();
  w.key("extra")
      .begin_object()
      .key("meta")
      .begin_object()
      .field("subChatType", type)
      .end_object()
      .end_object();
  w.field("sub_chat_type", type);
  parent("parent_id");
  w.end_object().end_array();
  w.field("timestamp", p.timestamp_s);
  w.end_object();
  return out;
}

std::string stop_body(std::string_view chat_id) {
  std::string out;
  json::Writer w(&out);
  w.begin_object().field("chat_id", chat_id).end_object();
  return out;
}

}  // namespace qp::worker
