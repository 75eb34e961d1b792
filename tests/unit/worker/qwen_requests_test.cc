#include "worker/qwen_requests.h"

#include <algorithm>

#include <catch2/catch.hpp>
#include <simdjson.h>

using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

namespace {

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& json) {
  simdjson::dom::element e;
  REQUIRE_FALSE(p.parse(json).get(e));
  return e;
}

std::string_view str(simdjson::dom::element e, std::string_view pointer) {
  std::string_view s;
  INFO(pointer);
  REQUIRE_FALSE(e.at_pointer(pointer).get(s));
  return s;
}

int64_t num(simdjson::dom::element e, std::string_view pointer) {
  int64_t v = 0;
  INFO(pointer);
  REQUIRE_FALSE(e.at_pointer(pointer).get(v));
  return v;
}

bool boolean(simdjson::dom::element e, std::string_view pointer) {
  bool v = false;
  INFO(pointer);
  REQUIRE_FALSE(e.at_pointer(pointer).get(v));
  return v;
}

bool is_null(simdjson::dom::element e, std::string_view pointer) {
  simdjson::dom::element v;
  INFO(pointer);
  REQUIRE_FALSE(e.at_pointer(pointer).get(v));
  return v.is_null();
}

size_t count_keys(simdjson::dom::element e, std::string_view pointer) {
  simdjson::dom::object o;
  REQUIRE_FALSE(e.at_pointer(pointer).get(o));
  return o.size();
}

bool has_header(const std::vector<std::string>& h, std::string_view line) {
  return std::find(h.begin(), h.end(), line) != h.end();
}

bool has_header_named(const std::vector<std::string>& h, std::string_view name) {
  return std::any_of(h.begin(), h.end(), [&](const std::string& l) {
    return l.size() > name.size() && l.compare(0, name.size(), name) == 0 && l[name.size()] == ':';
  });
}

}  // namespace

TEST_CASE("requests: completion body has exactly the upstream fields", "[requests]") {
  CompletionParams p;
  p.chat_id = "0cac4f88-3ce7-4b19-8ebb-632ca66c512c";
  p.model = "qwen3-max";
  p.content = "explain law to an alien \"quoted\"\n";
  p.fid = "7c09d7cb-204a-4e1b-8a30-bf00f41c5518";
  p.child_id = "9bfe2f09-f713-40fc-a094-83afcde60e6f";
  p.timestamp_s = 1761490228;
  std::string body = completion_body(p);
  simdjson::dom::parser parser;
  auto doc = parse(parser, body);

  CHECK(count_keys(doc, "") == 9);
  CHECK(boolean(doc, "/stream") == true);
  CHECK(str(doc, "/version") == "2.1");
  CHECK(boolean(doc, "/incremental_output") == true);
  CHECK(str(doc, "/chat_id") == p.chat_id);
  CHECK(str(doc, "/chat_mode") == "normal");
  CHECK(str(doc, "/model") == "qwen3-max");
  CHECK(is_null(doc, "/parent_id"));
  CHECK(num(doc, "/timestamp") == 1761490228);

  simdjson::dom::array msgs;
  REQUIRE_FALSE(doc["messages"].get(msgs));
  REQUIRE(msgs.size() == 1);
  CHECK(count_keys(doc, "/messages/0") == 14);
  CHECK(str(doc, "/messages/0/fid") == p.fid);
  CHECK(is_null(doc, "/messages/0/parentId"));
  CHECK(is_null(doc, "/messages/0/parent_id"));
  CHECK(str(doc, "/messages/0/childrenIds/0") == p.child_id);
  CHECK(str(doc, "/messages/0/role") == "user");
  CHECK(str(doc, "/messages/0/content") == p.content);
  CHECK(str(doc, "/messages/0/user_action") == "chat");
  simdjson::dom::array files;
  REQUIRE_FALSE(doc.at_pointer("/messages/0/files").get(files));
  CHECK(files.size() == 0);
  CHECK(num(doc, "/messages/0/timestamp") == 1761490228);
  CHECK(str(doc, "/messages/0/models/0") == "qwen3-max");
  CHECK(str(doc, "/messages/0/chat_type") == "t2t");
  CHECK(str(doc, "/messages/0/sub_chat_type") == "t2t");
  CHECK(str(doc, "/messages/0/extra/meta/subChatType") == "t2t");

  CHECK(count_keys(doc, "/messages/0/feature_config") == 8);
  CHECK(boolean(doc, "/messages/0/feature_config/thinking_enabled") == false);
  CHECK(str(doc, "/messages/0/feature_config/output_schema") == "phase");
  CHECK(num(doc, "/messages/0/feature_config/thinking_budget") == 38912);
  CHECK(str(doc, "/messages/0/feature_config/research_mode") == "normal");
  CHECK(boolean(doc, "/messages/0/feature_config/auto_thinking") == false);
  CHECK(str(doc, "/messages/0/feature_config/thinking_mode") == "Fast");
  CHECK(str(doc, "/messages/0/feature_config/thinking_format") == "summary");
  CHECK(boolean(doc, "/messages/0/feature_config/auto_search") == false);
}

TEST_CASE("requests: thinking, search and a parent id", "[requests]") {
  CompletionParams p;
  p.chat_id = "c";
  p.model = "qwen3-vl-plus";
  p.content = "x";
  p.thinking = true;
  p.search = true;
  p.parent_id = "e34734e7";
  std::string body = completion_body(p);
  simdjson::dom::parser parser;
  auto doc = parse(parser, body);
  CHECK(boolean(doc, "/messages/0/feature_config/thinking_enabled") == true);
  CHECK(str(doc, "/messages/0/feature_config/thinking_mode") == "Thinking");
  CHECK(str(doc, "/messages/0/feature_config/thinking_format") == "detail");
  CHECK(boolean(doc, "/messages/0/feature_config/auto_search") == true);
  CHECK(str(doc, "/messages/0/chat_type") == "search");
  CHECK(str(doc, "/messages/0/sub_chat_type") == "search");
  CHECK(str(doc, "/messages/0/extra/meta/subChatType") == "search");
  CHECK(str(doc, "/parent_id") == "e34734e7");
  CHECK(str(doc, "/messages/0/parentId") == "e34734e7");
  CHECK(str(doc, "/messages/0/parent_id") == "e34734e7");
}

TEST_CASE("requests: new chat body, timestamp in ms", "[requests]") {
  simdjson::dom::parser parser;
  auto doc = parse(parser, new_chat_body("qwen3-max", "t2t", 1761484022218));
  CHECK(count_keys(doc, "") == 6);
  CHECK(str(doc, "/title") == "New Chat");
  CHECK(str(doc, "/models/0") == "qwen3-max");
  CHECK(str(doc, "/chat_mode") == "normal");
  CHECK(str(doc, "/chat_type") == "t2t");
  CHECK(num(doc, "/timestamp") == 1761484022218);
  CHECK(str(doc, "/project_id").empty());
  auto search = parse(parser, new_chat_body("m", "search", 1));
  CHECK(str(search, "/chat_type") == "search");
}

TEST_CASE("requests: stop body", "[requests]") {
  CHECK(stop_body("abc") == R"({"chat_id":"abc"})");
}

TEST_CASE("requests: URLs", "[requests]") {
  CHECK(endpoint_url(Endpoint::kModels, "https://chat.qwen.ai") ==
        "https://chat.qwen.ai/api/models");
  CHECK(endpoint_url(Endpoint::kModelsV2, "http://127.0.0.1:9") ==
        "http://127.0.0.1:9/api/v2/models/");
  CHECK(endpoint_url(Endpoint::kNewChat, "https://x") == "https://x/api/v2/chats/new");
  CHECK(endpoint_url(Endpoint::kCompletion, "https://x", "0cac-4f88") ==
        "https://x/api/v2/chat/completions?chat_id=0cac-4f88");
  CHECK(endpoint_url(Endpoint::kStop, "https://x", "a b&c") ==
        "https://x/api/v2/chat/completions/stop?chat_id=a%20b%26c");
  CHECK(endpoint_url(Endpoint::kDeleteChat, "https://x", "c-1") == "https://x/api/v2/chats/c-1");
}

TEST_CASE("requests: model variants", "[requests]") {
  auto plain = parse_model_variant("qwen3-max");
  CHECK(plain.upstream_model == "qwen3-max");
  CHECK_FALSE(plain.thinking);
  CHECK_FALSE(plain.search);
  auto t = parse_model_variant("qwen3-vl-plus-thinking");
  CHECK(t.upstream_model == "qwen3-vl-plus");
  CHECK(t.thinking);
  auto s = parse_model_variant("qwen3-max-search");
  CHECK(s.upstream_model == "qwen3-max");
  CHECK(s.search);
  auto ts = parse_model_variant("qwen3-max-thinking-search");
  CHECK(ts.upstream_model == "qwen3-max");
  CHECK(ts.thinking);
  CHECK(ts.search);
  CHECK(parse_model_variant("-thinking").upstream_model == "-thinking");
}

TEST_CASE("requests: completion headers", "[requests]") {
  HeaderParams p;
  p.base_url = "https://chat.qwen.ai";
  p.user_agent = "UA/1.0";
  p.jwt = "eyJhbGciOi.x.y";
  p.bx_umidtoken = "T2gA";
  p.bx_v = "2.5.36";
  p.chat_id = "c1";
  p.request_uuid = "u-1";
  p.timezone = "Fri Apr 24 2026 12:00:00 GMT+0800";
  auto h = build_headers(Endpoint::kCompletion, p);
  CHECK(has_header(h, "Accept: text/event-stream"));
  CHECK(has_header(h, "Accept-Encoding: identity"));
  CHECK(has_header(h, "Content-Type: application/json"));
  CHECK(has_header(h, "User-Agent: UA/1.0"));
  CHECK(has_header(h, "Origin: https://chat.qwen.ai"));
  CHECK(has_header(h, "Referer: https://chat.qwen.ai/c/c1"));
  CHECK(has_header(h, "source: web"));
  CHECK(has_header(h, "version: 0.2.68"));
  CHECK(has_header(h, "x-request-id: u-1"));
  CHECK(has_header(h, "timezone: Fri Apr 24 2026 12:00:00 GMT+0800"));
  CHECK(has_header(h, "Authorization: Bearer eyJhbGciOi.x.y"));
  CHECK(has_header(h, "bx-umidtoken: T2gA"));
  CHECK(has_header(h, "bx-v: 2.5.36"));
  CHECK_FALSE(has_header_named(h, "bx-ua"));  // not configured
  CHECK(has_header(h, "Expect:"));
  CHECK_FALSE(has_header_named(h, "Cookie"));  // set with CURLOPT_COOKIE
}

TEST_CASE("requests: other endpoints' headers", "[requests]") {
  HeaderParams p;
  p.base_url = "http://127.0.0.1:8";
  p.user_agent = "UA";
  p.request_uuid = "u";
  p.timezone = "tz";
  auto models = build_headers(Endpoint::kModels, p);
  CHECK(has_header(models, "Accept: application/json, text/plain, */*"));
  CHECK(has_header(models, "Referer: http://127.0.0.1:8/"));
  CHECK_FALSE(has_header_named(models, "Content-Type"));
  CHECK_FALSE(has_header_named(models, "Authorization"));  // no JWT
  auto chat = build_headers(Endpoint::kNewChat, p);
  CHECK(has_header(chat, "Referer: http://127.0.0.1:8/c/new-chat"));
  CHECK(has_header(chat, "Content-Type: application/json"));
}

TEST_CASE("requests: header values cannot inject lines", "[requests]") {
  HeaderParams p;
  p.base_url = "https://x";
  p.user_agent = "UA\r\nX-Evil: 1";
  auto h = build_headers(Endpoint::kModels, p);
  CHECK(has_header(h, "User-Agent: UAX-Evil: 1"));
  for (const auto& line : h) CHECK(line.find_first_of("\r\n") == std::string::npos);
}

TEST_CASE("requests: JS Date.toString form", "[requests]") {
  std::string s = js_date_string(1777003200);  // 2026-04-24T04:00:00Z
  // "Www Mmm dd yyyy hh:mm:ss GMT+hhmm", local time.
  REQUIRE(s.size() == 33);
  CHECK(s[18] == ':');
  CHECK(s[21] == ':');
  CHECK((s.substr(25, 4) == "GMT+" || s.substr(25, 4) == "GMT-"));
  CHECK(s.find("2026") == 11);
}

TEST_CASE("requests: features on top of the model variant", "[requests]") {
  qp::protocol::JobFeatures none;
  auto v = apply_features(parse_model_variant("qwen3-max"), none);
  CHECK_FALSE(v.search);
  CHECK_FALSE(v.thinking);
  CHECK(apply_features(parse_model_variant("qwen3-vl-plus-thinking"), none).thinking);

  qp::protocol::JobFeatures search;
  search.search = true;
  v = apply_features(parse_model_variant("qwen3-max"), search);
  CHECK(v.search);
  CHECK(v.upstream_model == "qwen3-max");
  CHECK(apply_features(parse_model_variant("qwen3-max-search"), none).search);

  qp::protocol::JobFeatures on;
  on.thinking = 1;
  CHECK(apply_features(parse_model_variant("qwen3-vl-plus"), on).thinking);
  qp::protocol::JobFeatures off;
  off.thinking = 0;  // an explicit "off" (reasoning_effort low) wins over the suffix
  v = apply_features(parse_model_variant("qwen3-vl-plus-thinking-search"), off);
  CHECK_FALSE(v.thinking);
  CHECK(v.search);

  // Offered, not forced (a Responses web_search tool): auto_search in
  // feature_config, and the chat stays a "t2t" chat.
  qp::protocol::JobFeatures offered;
  offered.auto_search = true;
  v = apply_features(parse_model_variant("qwen3-max"), offered);
  CHECK(v.auto_search);
  CHECK_FALSE(v.search);
  CompletionParams p;
  p.chat_id = "c";
  p.model = "qwen3-max";
  p.content = "x";
  p.auto_search = v.auto_search;
  std::string body = completion_body(p);
  simdjson::dom::parser parser;
  auto doc = parse(parser, body);
  CHECK(boolean(doc, "/messages/0/feature_config/auto_search") == true);
  CHECK(str(doc, "/messages/0/chat_type") == "t2t");
}

TEST_CASE("requests: thinking budget in feature_config", "[requests]") {
  CompletionParams p;
  p.chat_id = "c";
  p.model = "qwen3-vl-plus";
  p.content = "x";
  p.thinking = true;
  simdjson::dom::parser parser;
  p.thinking_budget = 8192;
  {
    auto doc = parse(parser, completion_body(p));
    CHECK(num(doc, "/messages/0/feature_config/thinking_budget") == 8192);
    CHECK(boolean(doc, "/messages/0/feature_config/thinking_enabled") == true);
    CHECK(str(doc, "/messages/0/feature_config/thinking_mode") == "Thinking");
  }
  p.thinking_budget = 1'000'000;  // clamped to the models' max thinking length
  CHECK(num(parse(parser, completion_body(p)), "/messages/0/feature_config/thinking_budget") ==
        kMaxThinkingBudget);
  p.thinking_budget = 0;
  CHECK(num(parse(parser, completion_body(p)), "/messages/0/feature_config/thinking_budget") ==
        kThinkingBudget);
}

TEST_CASE("requests: the deep research variant", "[requests][research]") {
  auto dr = parse_model_variant("qwen3-max-deep-research");
  CHECK(dr.upstream_model == "qwen3-max");
  CHECK(dr.deep_research);
  CHECK_FALSE(dr.search);
  CHECK(chat_type_of(dr) == "deep_research");
  // Outermost: it may wrap the other suffixes.
  auto tdr = parse_model_variant("qwen3-vl-plus-thinking-deep-research");
  CHECK(tdr.upstream_model == "qwen3-vl-plus");
  CHECK(tdr.thinking);
  CHECK(tdr.deep_research);
  // Search asked as well (web_search_options): still a deep research chat.
  qp::protocol::JobFeatures search;
  search.search = true;
  auto both = apply_features(dr, search);
  CHECK(both.search);
  CHECK(chat_type_of(both) == "deep_research");
  CHECK(chat_type_of(parse_model_variant("qwen3-max-search")) == "search");
  CHECK(chat_type_of(parse_model_variant("qwen3-max")) == "t2t");
  // Not a suffix by itself, and "-research" alone is not one.
  CHECK_FALSE(parse_model_variant("-deep-research").deep_research);
  CHECK_FALSE(parse_model_variant("qwen3-max-research").deep_research);

  simdjson::dom::parser parser;
  auto chat = parse(parser, new_chat_body("qwen3-max", chat_type_of(dr), 1));
  CHECK(str(chat, "/chat_type") == "deep_research");

  CompletionParams p;
  p.chat_id = "c";
  p.model = "qwen3-max";
  p.content = "research the history of tea";
  p.deep_research = true;
  p.search = true;
  std::string body = completion_body(p);
  auto doc = parse(parser, body);
  CHECK(str(doc, "/messages/0/chat_type") == "deep_research");
  CHECK(str(doc, "/messages/0/sub_chat_type") == "deep_research");
  CHECK(str(doc, "/messages/0/extra/meta/subChatType") == "deep_research");
  CHECK(str(doc, "/messages/0/feature_config/research_mode") == "normal");
  CHECK(count_keys(doc, "/messages/0/feature_config") == 8);
}
