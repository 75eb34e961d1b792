#include "tools/mock-qwen/requests.h"

#include <string>

#include <catch2/catch.hpp>

using namespace qp::mock;  // NOLINT(google-build-using-namespace): test brevity

namespace {
// The full completion request body (CCT capture + 2026 fields).
constexpr std::string_view kCapturedBody = R"({
  "stream": true, "version": "2.1", "incremental_output": true,
  "chat_id": "0cac4f88-3ce7-4b19-8ebb-632ca66c512c", "chat_mode": "normal",
  "model": "qwen3-max", "parent_id": null,
  "messages": [{
    "fid": "7c09d7cb-204a-4e1b-8a30-bf00f41c5518", "parentId": null,
    "childrenIds": ["9bfe2f09-f713-40fc-a094-83afcde60e6f"], "role": "user",
    "content": "explain law to an alien", "user_action": "chat", "files": [],
    "timestamp": 1761490228, "models": ["qwen3-max"], "chat_type": "t2t",
    "feature_config": {"thinking_enabled": false, "output_schema": "phase",
      "thinking_budget": 38912, "research_mode": "normal", "auto_thinking": false,
      "thinking_mode": "Fast", "thinking_format": "summary", "auto_search": true},
    "extra": {"meta": {"subChatType": "t2t"}}, "sub_chat_type": "t2t", "parent_id": null}],
  "timestamp": 1761490229})";
}  // namespace

TEST_CASE("parses the captured completion request", "[requests]") {
  auto r = parse_completion_request(kCapturedBody);
  REQUIRE(r.has_value());
  CHECK(r->stream);
  CHECK(r->incremental_output);
  CHECK(r->chat_id == "0cac4f88-3ce7-4b19-8ebb-632ca66c512c");
  CHECK(r->chat_mode == "normal");
  CHECK(r->model == "qwen3-max");
  CHECK_FALSE(r->parent_id.has_value());
  CHECK(r->message_count == 1);
  CHECK(r->role == "user");
  CHECK(r->content == "explain law to an alien");
  CHECK(r->chat_type == "t2t");
  CHECK_FALSE(r->thinking_enabled);
  CHECK(r->thinking_format == "summary");
  CHECK(r->thinking_budget == 38912);
  CHECK(r->thinking_mode == "Fast");
  CHECK(r->auto_search);
}

TEST_CASE("parent_id precedence: top level, then message parent_id, then parentId", "[requests]") {
  auto top = parse_completion_request(
      R"({"model":"m","parent_id":"T","messages":[{"role":"user","content":"x","parent_id":"M","parentId":"C"}]})");
  REQUIRE(top.has_value());
  CHECK(top->parent_id == std::optional<std::string>("T"));
  auto msg = parse_completion_request(
      R"({"model":"m","messages":[{"role":"user","content":"x","parentId":"C","parent_id":"M"}]})");
  REQUIRE(msg.has_value());
  CHECK(msg->parent_id == std::optional<std::string>("M"));
  auto camel = parse_completion_request(
      R"({"model":"m","messages":[{"role":"user","content":"x","parentId":"C"}]})");
  REQUIRE(camel.has_value());
  CHECK(camel->parent_id == std::optional<std::string>("C"));
  auto empty = parse_completion_request(
      R"({"model":"m","parent_id":"","messages":[{"role":"user","content":"x"}]})");
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->parent_id.has_value());
}

TEST_CASE("content parts are joined and attachments counted", "[requests]") {
  auto r = parse_completion_request(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"text","text":"look"},{"type":"image","image":"https://x/a.png"},
      {"type":"text","text":"at this"}],"chat_type":"search",
      "feature_config":{"thinking_enabled":true}}]})");
  REQUIRE(r.has_value());
  CHECK(r->content == "look\nat this");
  CHECK(r->attachments == 1);
  CHECK(r->chat_type == "search");
  CHECK(r->thinking_enabled);
}

TEST_CASE("counts extra messages without failing the parse", "[requests]") {
  auto r = parse_completion_request(
      R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]})");
  REQUIRE(r.has_value());
  CHECK(r->message_count == 3);
  CHECK(r->content == "a");
}

TEST_CASE("bad completion bodies give Bad_Request details", "[requests]") {
  struct Case {
    const char* body;
    const char* details;
  };
  const Case cases[] = {
      {"", "Invalid input JSON body."},
      {"[]", "Invalid input JSON body."},
      {R"({"model":"m"})", "Invalid input messages is empty."},
      {R"({"model":"m","messages":[]})", "Invalid input messages is empty."},
      {R"({"messages":[{"role":"user","content":"x"}]})", "Invalid input model is empty."},
      {R"({"model":"m","messages":[{"role":"user","content":42}]})",
       "Invalid input message content."},
      {R"({"model":"m","stream":"yes","messages":[{"role":"user","content":"x"}]})",
       "Invalid input stream."},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}]} x)", "Invalid input JSON body."},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = parse_completion_request(c.body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message() == c.details);
  }
}

TEST_CASE("parses chats/new, stop, signin, sts and token bodies", "[requests]") {
  auto nc = parse_new_chat_request(
      R"({"title":"New Chat","models":["qwen3-max"],"chat_mode":"normal","chat_type":"t2t","timestamp":1761484022218,"project_id":""})");
  REQUIRE(nc.has_value());
  CHECK(nc->model == "qwen3-max");
  CHECK(nc->chat_mode == "normal");
  CHECK(nc->title == "New Chat");

  auto stop = parse_chat_id_body(R"({"chat_id":"c1"})");
  REQUIRE(stop.has_value());
  CHECK(stop.value() == "c1");
  auto empty_stop = parse_chat_id_body("");
  REQUIRE(empty_stop.has_value());
  CHECK(empty_stop.value().empty());
  CHECK_FALSE(parse_chat_id_body("{").has_value());

  auto si = parse_signin_request(R"({"email":"a@b.c","password":"abc123"})");
  REQUIRE(si.has_value());
  CHECK(si->email == "a@b.c");

  auto sts = parse_sts_request(R"({"filename":"a.png","filesize":12345,"filetype":"image"})");
  REQUIRE(sts.has_value());
  CHECK(sts->filesize == 12345);
  CHECK_FALSE(parse_sts_request(R"({"filesize":1})").has_value());

  auto tok = parse_token_request(R"({"user":"u1","ttl_s":-5})");
  REQUIRE(tok.has_value());
  CHECK(tok->ttl_s == -5);
  CHECK_FALSE(parse_token_request(R"({"ttl_s":5})").has_value());
}

TEST_CASE("every truncation of a valid body is rejected cleanly", "[requests]") {
  std::string body(kCapturedBody);
  for (size_t n = 0; n < body.size(); ++n) {
    auto r = parse_completion_request(std::string_view(body).substr(0, n));
    // Only prefixes that end right after the final '}' could parse; none do here.
    CHECK_FALSE(r.has_value());
  }
  CHECK(parse_completion_request(body).has_value());
}

TEST_CASE("garbage bytes never crash the parsers", "[requests]") {
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int round = 0; round < 300; ++round) {
    std::string junk;
    size_t len = static_cast<size_t>(round % 64);
    for (size_t i = 0; i < len; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      junk.push_back("{}[]\",:0a\\ntrue\x80\xff"[x % 18]);
    }
    (void)parse_completion_request(junk);
    (void)parse_new_chat_request(junk);
    (void)parse_signin_request(junk);
    (void)parse_chat_id_body(junk);
    (void)parse_sts_request(junk);
    (void)parse_token_request(junk);
  }
  SUCCEED("no crash");
}
