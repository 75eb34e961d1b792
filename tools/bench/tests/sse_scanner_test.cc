#include "tools/bench/sse_scanner.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using qp::bench::classify_event;
using qp::bench::EventKind;
using qp::bench::SseScanner;

namespace {

struct Collect : qp::bench::EventSink {
  std::vector<EventKind> kinds;
  void on_event(EventKind k) override { kinds.push_back(k); }
};

// The gateway's stream (frontend output) and the mock's (captured format).
const std::string kOpenAi =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"You\"}}]}\n\n"
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hm\"}}]}\n\n"
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";
const std::vector<EventKind> kOpenAiKinds = {EventKind::kOther, EventKind::kContent,
                                             EventKind::kContent, EventKind::kOther,
                                             EventKind::kDone};

const std::string kQwen =
    "data: {\"response.created\":{\"chat_id\": \"a\", \"parent_id\": \"b\", "
    "\"response_id\":\"c\"}} "
    "\n\n"
    "data: {\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"You\", \"phase\": "
    "\"answer\", \"status\": \"typing\"}}], \"usage\": {\"input_tokens\": 2}}\n\n"
    "data: {\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"\", \"phase\": "
    "\"answer\", \"status\": \"typing\"}}]}\n\n"
    "data: {\"choices\": [{\"delta\": {\"content\": \"\", \"role\": \"assistant\", \"status\": "
    "\"finished\", \"phase\": \"answer\"}}]}\n\n";
const std::vector<EventKind> kQwenKinds = {EventKind::kOther, EventKind::kContent,
                                           EventKind::kOther, EventKind::kFinished};

}  // namespace

TEST_CASE("classify_event recognises the event kinds of both APIs", "[bench]") {
  CHECK(classify_event("data: [DONE]\n") == EventKind::kDone);
  CHECK(classify_event("data: {\"error\":{\"message\":\"x\"}}\n") == EventKind::kError);
  CHECK(classify_event(": keep-alive\n") == EventKind::kOther);
  CHECK(classify_event("event: ping\n") == EventKind::kOther);
  CHECK(classify_event("data: {\"choices\":[{\"delta\":{\"content\":\"\"}}]}\n") ==
        EventKind::kOther);
  CHECK(classify_event("data:{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n") ==
        EventKind::kContent);
  CHECK(classify_event("data: {\"choices\": [{\"delta\": {\"content\":  \"x\"}}]}\r\n") ==
        EventKind::kContent);
  CHECK(classify_event("data: {\"x\":1,\"status\":\"finished\"}\n") == EventKind::kFinished);
  CHECK(classify_event("") == EventKind::kOther);
}

TEST_CASE("scanner yields the same events for any split of the stream", "[bench]") {
  for (const auto& [stream, expected] :
       {std::pair{kOpenAi, kOpenAiKinds}, std::pair{kQwen, kQwenKinds}}) {
    for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}, stream.size()}) {
      SseScanner s;
      Collect c;
      for (size_t i = 0; i < stream.size(); i += step) {
        s.feed(std::string_view(stream).substr(i, step), &c);
      }
      INFO("step " << step);
      CHECK(c.kinds == expected);
      CHECK(s.pending_bytes() == 0);
    }
  }
}

TEST_CASE("scanner accepts CRLF line ends and skips extra blank lines", "[bench]") {
  SseScanner s;
  Collect c;
  s.feed("data: {\"content\":\"a\"}\r\n\r\n\n\ndata: [DONE]\r\n\r\n", &c);
  CHECK(c.kinds == std::vector<EventKind>{EventKind::kContent, EventKind::kDone});
}

TEST_CASE("scanner holds back an unterminated event", "[bench]") {
  SseScanner s;
  Collect c;
  s.feed("data: {\"content\":\"a\"}\n", &c);
  CHECK(c.kinds.empty());
  CHECK(s.pending_bytes() > 0);
  s.feed("\n", &c);
  CHECK(c.kinds == std::vector<EventKind>{EventKind::kContent});
  s.reset();
  CHECK(s.pending_bytes() == 0);
}

TEST_CASE("scanner bounds an oversized event and stays in sync", "[bench]") {
  SseScanner s(32);
  Collect c;
  std::string big = "data: {\"content\":\"" + std::string(1000, 'x') + "\"}\n\n";
  s.feed(big, &c);
  s.feed("data: [DONE]\n\n", &c);
  REQUIRE(c.kinds.size() == 2);
  CHECK(c.kinds[0] == EventKind::kContent);  // classified from its first 32 bytes
  CHECK(c.kinds[1] == EventKind::kDone);
  // Same when the big event arrives in pieces.
  SseScanner s2(32);
  Collect c2;
  for (size_t i = 0; i < big.size(); i += 10) s2.feed(std::string_view(big).substr(i, 10), &c2);
  CHECK(s2.pending_bytes() == 0);
  CHECK(c2.kinds == std::vector<EventKind>{EventKind::kContent});
}
