#include "worker/qwen_events.h"

#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "common/protocol/messages.h"
#include "worker/sse_parser.h"

using qp::worker::EventOutcome;
using qp::worker::QwenEventInterpreter;
using qp::worker::SseParser;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string capture() { return read_file(QP_TESTDATA_DIR "/upstream/completion-stream.sse"); }

// The answer text of the capture computed independently of the code under
// test: every line "data: {json}" parsed with the simdjson DOM API.
std::string expected_capture_text(const std::string& sse) {
  simdjson::dom::parser parser;
  std::string text;
  std::istringstream in(sse);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    simdjson::dom::element doc;
    REQUIRE_FALSE(parser.parse(line.substr(6)).get(doc));
    simdjson::dom::array choices;
    if (doc["choices"].get(choices)) continue;
    for (auto c : choices) {
      std::string_view s;
      if (!c["delta"]["content"].get(s)) text.append(s);
    }
  }
  return text;
}

struct Run {
  std::string content;
  std::string reasoning;
  EventOutcome outcome = EventOutcome::kContinue;
  qp::worker::StreamUsage usage;
  std::string chat_id, parent_id, response_id;
  std::string error_message;
  qp::Code error_code = qp::Code::kOk;
  const char* health = nullptr;
  int64_t retry_after_s = 0;
  size_t events = 0;

  bool operator==(const Run& o) const {
    return content == o.content && reasoning == o.reasoning && outcome == o.outcome &&
           usage.input_tokens == o.usage.input_tokens &&
           usage.output_tokens == o.usage.output_tokens && chat_id == o.chat_id &&
           parent_id == o.parent_id && response_id == o.response_id &&
           error_message == o.error_message && events == o.events;
  }
};

// SSE parser + interpreter over the given byte pieces, like ChatCall does.
Run run(const std::vector<std::string_view>& pieces) {
  SseParser sse;
  QwenEventInterpreter ev;
  Run r;
  auto drain = [&]() {
    std::string_view data;
    while (r.outcome == EventOutcome::kContinue && sse.next(&data)) {
      ++r.events;
      r.outcome = ev.interpret(data, &r.content, &r.reasoning);
    }
  };
  for (auto piece : pieces) {
    sse.feed(piece);
    drain();
  }
  sse.finish();
  drain();
  REQUIRE(sse.status().ok());
  r.usage = ev.usage();
  r.chat_id = ev.chat_id();
  r.parent_id = ev.parent_id();
  r.response_id = ev.response_id();
  if (r.outcome == EventOutcome::kError) {
    r.error_message = ev.failure().message;
    r.error_code = ev.failure().code;
    r.health = ev.failure().health;
    r.retry_after_s = ev.failure().retry_after_s;
  }
  return r;
}

Run run(std::string_view all) { return run(std::vector<std::string_view>{all}); }

// Interprets single payloads (no SSE framing).
struct Direct {
  QwenEventInterpreter ev;
  std::string content, reasoning;
  EventOutcome feed(std::string_view payload) {
    return ev.interpret(payload, &content, &reasoning);
  }
};

}  // namespace

TEST_CASE("events: the real capture yields exactly its text and last usage", "[events]") {
  std::string sse = capture();
  std::string expected = expected_capture_text(sse);
  REQUIRE(expected.rfind("Greetings, Cosmic Traveler!", 0) == 0);
  Run r = run(sse);
  CHECK(r.outcome == EventOutcome::kFinished);
  CHECK(r.events == 823);
  CHECK(r.content == expected);
  CHECK(r.content.size() == 3750);
  CHECK(r.reasoning.empty());
  CHECK(r.usage.present);
  CHECK(r.usage.input_tokens == 33);
  CHECK(r.usage.output_tokens == 838);
  CHECK(r.usage.total_tokens == 871);
  CHECK(r.chat_id == "0cac4f88-3ce7-4b19-8ebb-632ca66c512c");
  CHECK(r.parent_id == "f2a0176c-e4cd-4550-b476-f9fa5daa7a32");
  CHECK(r.response_id == "e34734e7-0999-4d8f-a900-81d1a3db9ae4");
}

TEST_CASE("events: random multi-splits of the capture give the same result", "[events]") {
  std::string sse = capture();
  Run whole = run(sse);
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 40; ++iter) {
    std::vector<std::string_view> pieces;
    std::uniform_int_distribution<size_t> len(1, iter % 2 == 0 ? 16 : 4096);
    size_t pos = 0;
    while (pos < sse.size()) {
      size_t n = std::min(len(rng), sse.size() - pos);
      pieces.emplace_back(sse.data() + pos, n);
      pos += n;
    }
    INFO("iteration " << iter << ", " << pieces.size() << " pieces");
    REQUIRE(run(pieces) == whole);
  }
}

TEST_CASE("events: every split point of a multi-event stream gives the same result", "[events]") {
  const std::string stream =
      "data: {\"response.created\":{\"chat_id\": \"c1\", \"parent_id\": \"p1\", "
      "\"response_id\":\"r1\"}} \n\n"
      "data: {\"response.info\":{\"action\":\"keep_alive\",\"chat_id\":\"c1\"}}\r\n\r\n"
      ": ping\n\n"
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"hmm \",\"phase\":"
      "\"think\",\"status\":\"typing\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hé\",\"phase\":"
      "\"answer\",\"status\":\"typing\"}}],\"response_id\":\"r1\",\"usage\":{\"input_tokens\":5,"
      "\"output_tokens\":1,\"total_tokens\":6},\"timestamp\":1775934589}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"llo \\u2603\\n\",\"phase\":\"answer\"}}],"
      "\"usage\":{\"input_tokens\":5,\"output_tokens\":3,\"total_tokens\":8}}\n\n"
      "data: {\"choices\":[]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"role\":\"assistant\",\"status\":"
      "\"finished\",\"phase\":\"answer\"}}]}\n\n"
      "data: [DONE]\n\n";
  Run whole = run(stream);
  REQUIRE(whole.outcome == EventOutcome::kFinished);
  REQUIRE(whole.content == "Héllo \xE2\x98\x83\n");
  REQUIRE(whole.reasoning == "hmm ");
  REQUIRE(whole.usage.output_tokens == 3);
  REQUIRE(whole.chat_id == "c1");
  for (size_t i = 0; i <= stream.size(); ++i) {
    std::string_view s(stream);
    Run r = run({s.substr(0, i), s.substr(i)});
    INFO("split at " << i);
    REQUIRE(r == whole);
  }
}

TEST_CASE("events: [DONE], keep-alives, empty choices and unknown fields are tolerated",
          "[events]") {
  Direct d;
  CHECK(d.feed("[DONE]") == EventOutcome::kContinue);
  CHECK(d.feed("") == EventOutcome::kContinue);
  CHECK(d.feed(R"({"response.info":{"action":"keep_alive","chat_id":"x","timestamp":1}})") ==
        EventOutcome::kContinue);
  CHECK(d.feed(R"({"choices":[]})") == EventOutcome::kContinue);
  CHECK(d.feed(R"({"usage":{"input_tokens":1,"output_tokens":2}})") == EventOutcome::kContinue);
  CHECK(
      d.feed(
          R"({"choices":[{"delta":{"content":"a","phase":"answer","new_field":{"x":[1,2]}}}],"response_id":"r","timestamp":1775934589,"extra_top":null})") ==
      EventOutcome::kContinue);
  CHECK(d.content == "a");
  CHECK(d.ev.usage().total_tokens == 3);  // computed when absent
}

TEST_CASE("events: finished ends only in the answer phase", "[events]") {
  Direct d;
  // A native tool result also says finished: not the end.
  CHECK(
      d.feed(
          R"({"choices":[{"delta":{"role":"function","content":"","phase":"web_search","status":"finished","name":"web_search"}}]})") ==
      EventOutcome::kContinue);
  CHECK(
      d.feed(
          R"({"choices":[{"delta":{"role":"assistant","content":"","phase":"think","status":"finished"}}]})") ==
      EventOutcome::kContinue);
  CHECK(
      d.feed(
          R"({"choices":[{"delta":{"role":"assistant","content":"done","phase":"answer","status":"finished"}}]})") ==
      EventOutcome::kFinished);
  CHECK(d.content == "done");
  // After the end nothing changes.
  CHECK(d.feed(R"({"choices":[{"delta":{"content":"more","phase":"answer"}}]})") ==
        EventOutcome::kFinished);
  CHECK(d.content == "done");
}

TEST_CASE("events: function-role and search/image phases are not answer text", "[events]") {
  Direct d;
  d.feed(
      R"({"choices":[{"delta":{"role":"assistant","content":"","phase":"web_search","status":"typing","function_call":{"name":"web_search","arguments":"{}"}}}]})");
  d.feed(
      R"({"choices":[{"delta":{"role":"function","content":"tool text","phase":"web_search","status":"typing"}}]})");
  d.feed(R"({"choices":[{"delta":{"role":"assistant","content":"img","phase":"image_gen"}}]})");
  CHECK(d.content.empty());
  CHECK(d.reasoning.empty());
}

TEST_CASE("events: thinking_summary cumulative arrays become reasoning deltas", "[events]") {
  Direct d;
  d.feed(
      R"({"choices":[{"delta":{"role":"assistant","content":"","phase":"thinking_summary","extra":{"summary_title":{"content":["Greeting"]},"summary_thought":{"content":["The user said hello."]}}}}]})");
  CHECK(d.reasoning == "The user said hello.");
  d.feed(
      R"({"choices":[{"delta":{"role":"assistant","content":"","phase":"thinking_summary","extra":{"summary_thought":{"content":["The user said hello.","I should offer help."]}}}}]})");
  CHECK(d.reasoning == "The user said hello.\nI should offer help.");
  // Repeating the same array adds nothing.
  d.feed(
      R"({"choices":[{"delta":{"phase":"thinking_summary","extra":{"summary_thought":{"content":["The user said hello.","I should offer help."]}}}}]})");
  CHECK(d.reasoning == "The user said hello.\nI should offer help.");
  // The phase may come after extra in the object.
  d.feed(
      R"({"choices":[{"delta":{"extra":{"summary_thought":{"content":["The user said hello.","I should offer help. Now."]}},"phase":"thinking_summary"}}]})");
  CHECK(d.reasoning == "The user said hello.\nI should offer help. Now.");
  d.feed(R"({"choices":[{"delta":{"content":"Hi!","phase":"answer","status":"typing"}}]})");
  CHECK(d.content == "Hi!");
}

TEST_CASE("events: think-phase deltas are reasoning", "[events]") {
  Direct d;
  d.feed(
      R"({"choices":[{"delta":{"role":"assistant","content":"Let me ","phase":"think","status":"typing"}}]})");
  d.feed(
      R"({"choices":[{"delta":{"role":"assistant","content":"think.","phase":"think","status":"typing"}}]})");
  d.feed(
      R"({"choices":[{"delta":{"role":"assistant","content":"Answer","phase":"answer","status":"typing"}}]})");
  CHECK(d.reasoning == "Let me think.");
  CHECK(d.content == "Answer");
}

TEST_CASE("events: error events are detected before anything is forwarded", "[events]") {
  SECTION("success:false envelope (RateLimited)") {
    Direct d;
    CHECK(
        d.feed(
            R"({"success":false,"data":{"code":"RateLimited","num":2,"details":"quota exceeded"}})") ==
        EventOutcome::kError);
    CHECK(d.ev.failure().code == qp::Code::kRateLimited);
    CHECK(d.ev.failure().retry_after_s == 7200);
  }
  SECTION("error object with choices in the same event") {
    Direct d;
    CHECK(
        d.feed(
            R"({"choices":[{"delta":{"content":"leak","phase":"answer"}}],"error":{"code":"internal_error","message":"Internal error"}})") ==
        EventOutcome::kError);
    CHECK(d.content.empty());
    CHECK(d.ev.failure().code == qp::Code::kUpstream);
    CHECK_THAT(d.ev.failure().message, Catch::Contains("Internal error"));
  }
  SECTION("top-level code (un-enveloped)") {
    Direct d;
    CHECK(d.feed(R"({"code":"RateLimited","detail":"slow down"})") == EventOutcome::kError);
    CHECK(d.ev.failure().code == qp::Code::kRateLimited);
  }
  SECTION("data.error nested") {
    Direct d;
    CHECK(
        d.feed(
            R"({"data":{"error":{"code":"x","message":"Allocated quota exceeded, please increase your quota limit."}}})") ==
        EventOutcome::kError);
    CHECK(d.ev.failure().code == qp::Code::kRateLimited);
  }
  SECTION("WAF punish JSON inside the stream") {
    Direct d;
    CHECK(
        d.feed(
            R"({"ret":["FAIL_SYS_USER_VALIDATE","RGV587_ERROR::SM::x"],"data":{"url":"https://chat.qwen.ai//_____tmd_____/punish?x5secdata=abc"}})") ==
        EventOutcome::kError);
    CHECK(d.ev.failure().health == std::string_view(qp::protocol::kHealthNeedsVerification));
  }
  SECTION("null error and empty code are not errors") {
    Direct d;
    CHECK(
        d.feed(
            R"({"error":null,"code":"","choices":[{"delta":{"content":"ok","phase":"answer"}}]})") ==
        EventOutcome::kContinue);
    CHECK(d.content == "ok");
  }
  SECTION("after an error nothing more is accepted") {
    Direct d;
    d.feed(R"({"error":{"message":"boom"}})");
    CHECK(d.feed(R"({"choices":[{"delta":{"content":"x","phase":"answer"}}]})") ==
          EventOutcome::kError);
    CHECK(d.content.empty());
  }
}

TEST_CASE("events: malformed payloads are errors", "[events]") {
  for (std::string_view bad : {R"({"choices":[{"delta":)", "not json", "<html>captcha</html>",
                               R"(["array"])", R"({"choices": [}])"}) {
    Direct d;
    INFO(bad);
    CHECK(d.feed(bad) == EventOutcome::kError);
    CHECK(d.content.empty());
    CHECK(d.ev.failure().code == qp::Code::kUpstream);
  }
  Direct d;
  d.feed("<html>aliyun_waf_aa captcha</html>");
  CHECK(d.ev.failure().health == std::string_view(qp::protocol::kHealthNeedsVerification));
}

TEST_CASE("events: the stream's mid-stream error switch of the mock ends with an error",
          "[events]") {
  Run r =
      run("data: "
          "{\"response.created\":{\"chat_id\":\"c\",\"parent_id\":\"p\",\"response_id\":\"r\"}}\n\n"
          "data: {\"choices\":[{\"delta\":{\"content\":\"part\",\"phase\":\"answer\",\"status\":"
          "\"typing\"}}]}\n\n"
          "data: {\"error\":{\"code\":\"internal_error\",\"message\":\"Internal error\"}}\n\n");
  CHECK(r.outcome == EventOutcome::kError);
  CHECK(r.content == "part");
  CHECK(r.error_code == qp::Code::kUpstream);
}

TEST_CASE("events: EOF before finished leaves the outcome at continue", "[events]") {
  Run r = run("data: {\"choices\":[{\"delta\":{\"content\":\"cut\",\"phase\":\"answer\"}}]}\n\n");
  CHECK(r.outcome == EventOutcome::kContinue);
  CHECK(r.content == "cut");
}

TEST_CASE("events: usage numbers beyond int64 saturate (found by fuzzing)", "[events]") {
  // A plain double-to-int64 cast of 3.7e121 was undefined behaviour.
  Run r = run(
      "data: {\"choices\":[{\"delta\":{\"content\":\"x\",\"phase\":\"answer\"}}],"
      "\"usage\":{\"input_tokens\":3.72222e121,\"output_tokens\":-1e300,\"total_tokens\":1.5}}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"status\":\"finished\","
      "\"phase\":\"answer\"}}]}\n\n");
  CHECK(r.content == "x");
  CHECK(r.usage.input_tokens == std::numeric_limits<int64_t>::max());
  CHECK(r.usage.output_tokens == std::numeric_limits<int64_t>::min());
}

TEST_CASE("events: a total beyond int64 saturates (found by fuzzing)", "[events]") {
  // total_tokens absent: input + output overflowed (signed overflow, UB).
  Run r =
      run("data: {\"choices\":[{\"delta\":{\"content\":\"x\",\"phase\":\"answer\"}}],"
          "\"usage\":{\"input_tokens\":33,\"output_tokens\":9223372036854775807}}\n\n"
          "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"status\":\"finished\","
          "\"phase\":\"answer\"}}]}\n\n");
  CHECK(r.usage.total_tokens == std::numeric_limits<int64_t>::max());
}

namespace {
// Sources of a whole SSE file interpreted at every byte split (1, 7 bytes, all).
std::vector<qp::protocol::SearchSource> sources_of(const std::string& sse, std::string* content,
                                                   size_t piece) {
  SseParser p;
  QwenEventInterpreter ev;
  std::string reasoning;
  EventOutcome o = EventOutcome::kContinue;
  for (size_t i = 0; i < sse.size(); i += piece) {
    p.feed(std::string_view(sse).substr(i, piece));
    std::string_view data;
    while (o == EventOutcome::kContinue && p.next(&data))
      o = ev.interpret(data, content, &reasoning);
  }
  CHECK(o == EventOutcome::kFinished);
  CHECK(reasoning.empty());
  return ev.sources();
}
}  // namespace

TEST_CASE("events: search sources, newer function_call / tool_result format", "[events][search]") {
  std::string sse = read_file(QP_TESTDATA_DIR "/upstream/search-function-call.sse");
  for (size_t piece : {size_t{1}, size_t{7}, sse.size()}) {
    std::string content;
    auto s = sources_of(sse, &content, piece);
    CHECK(content == "Qwen news.");  // the call and the result are not answer text
    REQUIRE(s.size() == 2);          // deduplicated, web links only, objects only
    CHECK(s[0].url == "https://news.example/a");
    CHECK(s[0].title == "Qwen été news");
    CHECK(s[1].url == "https://news.example/b?x=1&y=2");
    CHECK(s[1].title == "B");
  }
}

TEST_CASE("events: search sources, older web_search_info format", "[events][search]") {
  std::string sse = read_file(QP_TESTDATA_DIR "/upstream/search-web-search-info.sse");
  std::string content;
  auto s = sources_of(sse, &content, 5);
  CHECK(content == "Old format.");
  REQUIRE(s.size() == 2);
  CHECK(s[0].url == "https://old.example/1");
  CHECK(s[0].title == "Old one");
  CHECK(s[1].url == "http://old.example/2");
}

TEST_CASE("events: search sources are bounded; other tools' docs are not sources",
          "[events][search]") {
  Direct d;
  // A tool result of another built-in tool (not web_search) carries docs too.
  d.feed(
      R"({"choices":[{"delta":{"role":"function","content":"","phase":"code_interpreter","status":"finished","name":"code_interpreter","extra":{"tool_result":{"docs":[{"url":"https://x.example/","title":"t"}]}}}}]})");
  CHECK(d.ev.sources().empty());
  // Many sources, a huge title: at most kMaxSources, titles cut on a UTF-8 boundary.
  std::string docs;
  for (size_t i = 0; i < qp::protocol::kMaxSources + 10; ++i) {
    if (i > 0) docs += ",";
    docs += R"({"url":"https://s.example/)" + std::to_string(i) + R"(","title":")" +
            std::string(qp::protocol::kMaxSourceTitleBytes - 1, 'a') + "\xc3\xa9" + R"("})";
  }
  std::string long_url = "https://l.example/" + std::string(qp::protocol::kMaxSourceUrlBytes, 'u');
  d.feed(
      R"({"choices":[{"delta":{"role":"assistant","content":"","phase":"web_search","extra":{"web_search_info":[{"url":")" +
      long_url + R"(","title":"too long"},)" + docs + "]}}}]}");
  REQUIRE(d.ev.sources().size() == qp::protocol::kMaxSources);
  CHECK(d.ev.sources()[0].url == "https://s.example/0");  // the over-long URL was skipped
  CHECK(d.ev.sources()[0].title.size() == qp::protocol::kMaxSourceTitleBytes - 1);
  CHECK(d.content.empty());
  d.ev.reset();
  CHECK(d.ev.sources().empty());
}

// The simdjson buffer is shared by every interpreter of a thread. On a
// malformed document simdjson may read into the padding after the payload,
// so what an earlier, longer payload left there must not change the result
// (the sse_stream fuzz target found a split that did).
TEST_CASE("events: a malformed event parses the same whatever was parsed before it", "[events]") {
  const std::string bad =
      R"({"response.created":{"chat_id": "0cac4f88-3ce7-4b19-8ebb-632ca66c512c","message": )"
      R"("parengt_id": "f2a0176c-e4cd-4550-b476-f9fa5daa7a32", "rsnopese_id":)"
      R"("e34734e7-0999-4d8f-a900-81d1a3db9ae4"}} )";
  auto after = [&](const std::string& before) {
    QwenEventInterpreter earlier;
    std::string content, reasoning;
    (void)earlier.interpret(before, &content, &reasoning);
    QwenEventInterpreter ev;
    EventOutcome o = ev.interpret(bad, &content, &reasoning);
    return std::make_pair(o, ev.chat_id());
  };
  // An earlier payload of 600 bytes of one character, for every printable
  // character: each leaves that character in the padding of the next one.
  const auto plain = after("{}");
  for (char c = 0x20; c < 0x7f; ++c) {
    INFO("left in the padding: '" << c << "'");
    CHECK(after("{" + std::string(600, c)) == plain);
  }
}
