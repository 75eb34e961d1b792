#include "tools/mock-qwen/replay.h"

#include <catch2/catch.hpp>

using qp::mock::ReplayLog;

namespace {
constexpr std::string_view kLog =
    R"({"v":1,"method":"GET","path":"/api/models","request":{"headers":{}},"response":{"status":200,"headers":{"content-type":"application/json"},"body":{"data":[]}},"outcome":"complete"})"
    "\n\n"
    R"({"v":1,"method":"POST","path":"/api/v2/chats/new","request":{"headers":{}},"response":{"status":200,"headers":{},"body":{"success":true,"data":{"id":"c1"}}},"outcome":"complete"})"
    "\n"
    R"({"v":1,"method":"POST","path":"/api/v2/chat/completions?chat_id=c1","request":{"headers":{}},"response":{"status":200,"headers":{"content-type":"text/event-stream"},"events":[{"t_ms":3,"data":{"a":1}},{"t_ms":7,"data":"[DONE]"}]},"outcome":"complete"})"
    "\n"
    R"({"v":1,"method":"POST","path":"/api/v2/chats/new","request":{"headers":{}},"response":{"status":0,"headers":{}},"outcome":"failed","error":"reset"})"
    "\n";
}  // namespace

TEST_CASE("replay log: parses a recording and matches by method and path in order") {
  auto log = ReplayLog::parse(kLog);
  REQUIRE(log.has_value());
  CHECK(log->size() == 4);
  CHECK(log->take("GET", "/api/v2/chats/new") == nullptr);                // method differs
  auto* c = log->take("POST", "/api/v2/chat/completions?chat_id=OTHER");  // query ignored
  REQUIRE(c != nullptr);
  CHECK(c->sse);
  REQUIRE(c->events.size() == 2);
  CHECK(c->events[0].t_ms == 3);
  CHECK(c->events[0].data == R"({"a":1})");
  CHECK(c->events[1].data == "[DONE]");
  auto* n1 = log->take("POST", "/api/v2/chats/new");
  REQUIRE(n1 != nullptr);
  CHECK(n1->status == 200);
  CHECK(n1->body == R"({"success":true,"data":{"id":"c1"}})");
  auto* n2 = log->take("POST", "/api/v2/chats/new");
  REQUIRE(n2 != nullptr);
  CHECK(n2->failed);
  CHECK(n2->status == 0);
  CHECK(log->take("POST", "/api/v2/chats/new") == nullptr);  // used up
  CHECK(log->remaining() == 1);
  auto* m = log->take("GET", "/api/models");
  REQUIRE(m != nullptr);
  CHECK(m->headers.at(0).second == "application/json");
  CHECK(log->remaining() == 0);
}

TEST_CASE("replay log: bad lines are errors naming the line") {
  auto bad =
      ReplayLog::parse("{\"method\":\"GET\",\"path\":\"/\",\"response\":{\"status\":200}}\nnope\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message().find("line 2") != std::string::npos);
  CHECK_FALSE(ReplayLog::parse(R"({"method":"GET","path":"/"})").has_value());
  CHECK_FALSE(ReplayLog::parse(R"({"method":"GET","response":{"status":200}})").has_value());
  auto empty = ReplayLog::parse("\n\n");
  REQUIRE(empty.has_value());
  CHECK(empty->size() == 0);
}
