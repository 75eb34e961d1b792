#include "tools/mock-qwen/sse_events.h"

#include <string>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "tests/unit/mock/sse_test_util.h"
#include "tools/mock-qwen/envelopes.h"

using namespace qp::mock;  // NOLINT(google-build-using-namespace): test brevity

namespace {
std::string created(std::string_view c, std::string_view p, std::string_view r) {
  std::string out;
  append_created(&out, c, p, r);
  return out;
}
std::string delta(std::string_view content, int64_t in, int64_t out_tokens,
                  const EventStyle& style = {}) {
  std::string out;
  append_delta(&out, content, "answer", Usage{in, out_tokens}, style);
  return out;
}
bool valid_json(std::string_view payload) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return !p.parse(std::string(payload)).get(e);
}
}  // namespace

TEST_CASE("events are byte-identical to the captured stream", "[sse]") {
  auto head = test::split_raw_events(test::read_testdata("mock/capture_head.sse"));
  REQUIRE(head.size() == 4);
  CHECK(created("0cac4f88-3ce7-4b19-8ebb-632ca66c512c", "f2a0176c-e4cd-4550-b476-f9fa5daa7a32",
                "e34734e7-0999-4d8f-a900-81d1a3db9ae4") == head[0]);
  CHECK(delta("Greetings", 33, 1) == head[1]);
  CHECK(delta(",", 33, 2) == head[2]);
  CHECK(delta(" Cosmic", 33, 3) == head[3]);

  auto mid = test::split_raw_events(test::read_testdata("mock/capture_mid.sse"));
  REQUIRE(mid.size() == 2);
  CHECK(delta("\n\n", 33, 10) == mid[0]);
  CHECK(delta(" \xF0\x9F\x8C\x8C", 33, 9) == mid[1]);  // raw UTF-8, not \u escapes

  auto tail = test::split_raw_events(test::read_testdata("mock/capture_tail.sse"));
  REQUIRE(tail.size() == 3);
  CHECK(delta("", 33, 838) == tail[0]);
  CHECK(delta("", 33, 838) == tail[1]);
  std::string fin;
  append_finished(&fin, EventStyle{});
  CHECK(fin == tail[2]);
}

TEST_CASE("content is escaped like Python json.dumps(ensure_ascii=False)", "[sse]") {
  std::string ev = delta("a\"b\\c\td\x01/e", 1, 1);
  CHECK(ev.find(R"("content": "a\"b\\c\td\u0001/e")") != std::string::npos);
  CHECK(valid_json(test::split_events(ev).at(0)));
}

TEST_CASE("2026 variant uses the QN README shape", "[sse]") {
  EventStyle style{true, "resp-1", 1775934589};
  CHECK(
      delta("hola", 554, 5, style) ==
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"hola\",\"phase\":"
      "\"answer\",\"status\":\"typing\"}}],\"response_id\":\"resp-1\",\"usage\":{\"input_tokens\":"
      "554,\"output_tokens\":5,\"total_tokens\":559},\"timestamp\":1775934589}\n\n");
  std::string fin;
  append_finished(&fin, style);
  CHECK(fin ==
        "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"role\":\"assistant\",\"status\":"
        "\"finished\",\"phase\":\"answer\"}}],\"response_id\":\"resp-1\"}\n\n");
  std::string ka;
  append_keep_alive(&ka, "chat-1", "resp-1", 1775934509);
  CHECK(ka ==
        "data: {\"response.info\":{\"action\":\"keep_alive\",\"chat_id\":\"chat-1\","
        "\"response_id\":\"resp-1\",\"timestamp\":1775934509}}\n\n");
}

TEST_CASE("thinking summary carries cumulative arrays", "[sse]") {
  std::string ev;
  append_summary(&ev, "Answer the greeting", {"The user said hello.", "I should offer help."},
                 EventStyle{});
  auto payloads = test::split_events(ev);
  REQUIRE(payloads.size() == 1);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE_FALSE(p.parse(payloads[0]).get(doc));
  std::string_view phase, title;
  REQUIRE_FALSE(doc.at_pointer("/choices/0/delta/phase").get(phase));
  CHECK(phase == "thinking_summary");
  REQUIRE_FALSE(doc.at_pointer("/choices/0/delta/extra/summary_title/content/0").get(title));
  CHECK(title == "Answer the greeting");
  simdjson::dom::array thoughts;
  REQUIRE_FALSE(doc.at_pointer("/choices/0/delta/extra/summary_thought/content").get(thoughts));
  CHECK(thoughts.size() == 2);
}

TEST_CASE("search events are valid JSON with nested arguments", "[sse]") {
  for (bool variant : {false, true}) {
    EventStyle style{variant, "r", 1};
    std::string call, result;
    append_search_call(&call, "what is \"law\"?", style);
    append_search_result(&result, "what is \"law\"?", style);
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    REQUIRE_FALSE(p.parse(test::split_events(call).at(0)).get(doc));
    std::string_view args;
    REQUIRE_FALSE(doc.at_pointer("/choices/0/delta/function_call/arguments").get(args));
    simdjson::dom::parser p2;
    simdjson::dom::element inner;
    REQUIRE_FALSE(p2.parse(std::string(args)).get(inner));
    std::string_view q;
    REQUIRE_FALSE(inner.at_pointer("/queries/0").get(q));
    CHECK(q == "what is \"law\"?");
    REQUIRE_FALSE(p.parse(test::split_events(result).at(0)).get(doc));
    std::string_view role, status;
    REQUIRE_FALSE(doc.at_pointer("/choices/0/delta/role").get(role));
    REQUIRE_FALSE(doc.at_pointer("/choices/0/delta/status").get(status));
    CHECK(role == "function");
    CHECK(status == "finished");
  }
}

TEST_CASE("stream error and [DONE] lines are exact", "[sse]") {
  std::string err, done;
  append_stream_error(&err);
  append_done(&done);
  CHECK(err ==
        "data: {\"error\":{\"code\":\"internal_error\",\"message\":\"Internal error\"}}\n\n");
  CHECK(done == "data: [DONE]\n\n");
}

TEST_CASE("error envelopes use the exact spec strings", "[envelopes]") {
  CHECK(
      error_envelope("rid", kBadRequest, kChatInProgressDetails) ==
      R"({"success":false,"request_id":"rid","data":{"code":"Bad_Request","details":"The chat is in progress!"}})");
  CHECK(
      rate_limited_envelope("rid", 6) ==
      R"({"success":false,"request_id":"rid","data":{"code":"RateLimited","details":"You've reached the upper limit for today's usage.","template":"You have reached the daily usage limit. Please wait {{num}} hours before trying again.","num":6}})");
  CHECK(
      error_envelope("rid", kUnauthorizedCode, kTokenExpired) ==
      R"({"success":false,"request_id":"rid","data":{"code":"Unauthorized","details":"Token has expired"}})");
  CHECK(bad_parent_details("p-1") == "Invalid input chat parent_id p-1 is not exist.");
  CHECK(unknown_chat_details("c-1") == "Invalid input chat_id c-1 is not exist.");
  CHECK(unknown_model_details("m") == "Model not found: m");
  CHECK(ok_envelope("rid", R"({"id":"x"})") ==
        R"({"success":true,"request_id":"rid","data":{"id":"x"}})");
}

TEST_CASE("WAF bodies carry the markers clients detect", "[envelopes]") {
  std::string json = waf_punish_json("/api/v2/chat/completions");
  CHECK(valid_json(json));
  CHECK(json.find("FAIL_SYS_USER_VALIDATE") != std::string::npos);
  CHECK(json.find(
            "https://chat.qwen.ai:443//api/v2/chat/completions/_____tmd_____/punish?x5secdata=") !=
        std::string::npos);
  std::string html = waf_html_page();
  for (const char* marker : {"aliyun_waf_aa", "punish", "captcha"}) {
    CHECK(html.find(marker) != std::string::npos);
  }
}
