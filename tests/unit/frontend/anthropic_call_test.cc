// MessagesCall over a real loopback HTTP exchange: chunks from the broker
// become Anthropic's SSE events or one message object; errors before the
// first byte get Anthropic's status and body, errors after it an `error`
// event; pings keep an open stream alive; the observer hears the call.
#include <functional>
#include <memory>
#include <optional>

#include <catch2/catch.hpp>

#include "frontend/anthropic/messages_call.h"
#include "tests/unit/http/server_fixture.h"

using namespace qp;
using namespace qp::frontend;
using namespace qp::frontend::anthropic;
using qp::http::Exchange;
using qp::http::test::ClientResponse;
using qp::http::test::ServerFixture;
using qp::http::test::TestClient;

namespace {

std::string post() {
  return "POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}";
}

protocol::JobChunk text(std::string s) {
  protocol::JobChunk c;
  c.content = std::move(s);
  return c;
}

protocol::JobDone done() {
  protocol::JobDone d;
  d.finish_reason = "stop";
  d.usage.completion_tokens = 2;
  return d;
}

struct Recorder : RequestObserver {
  std::vector<std::string> events;
  int status = 0;
  std::string error_type;
  void on_start(const RequestRecord& r) override {
    events.push_back("start:" + std::string(r.endpoint));
  }
  void on_first_content(const RequestRecord&) override { events.push_back("first"); }
  void on_end(const RequestRecord&, const RequestOutcome& o) override {
    events.push_back("end");
    status = o.http_status;
    error_type = std::string(o.error_type);
  }
};

// Runs one call; `drive` feeds it (it may defer work on the fixture's loop).
std::optional<ClientResponse> run(
    bool stream, Recorder* obs,
    const std::function<void(MessagesCall&, ServerFixture&, Exchange&)>& drive,
    uint64_t ping_ms = kPingIntervalMs) {
  ServerFixture f;
  std::unique_ptr<MessagesCall> call;
  f.start({}, [&](Exchange ex) {
    call = std::make_unique<MessagesCall>(f.loop.get(), ex, "r1", stream,
                                          MessageEvents("msg_r1", "claude-x", 3, false), ping_ms);
    RequestRecord rec;
    rec.id = "r1";
    rec.endpoint = "/v1/messages";
    call->observe(obs, std::move(rec));
    drive(*call, f, ex);
  });
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(post());
    r = c.read_response();
  }));
  call.reset();
  CHECK(f.finish() == 0);
  return r;
}

}  // namespace

TEST_CASE("MessagesCall streams Anthropic events and reports to the observer", "[anthropic_call]") {
  Recorder obs;
  auto r = run(true, &obs, [](MessagesCall& c, ServerFixture&, Exchange&) {
    c.on_chunk(text("Hi"));
    c.on_done(done());
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type") == "text/event-stream; charset=utf-8");
  CHECK(r->header("x-request-id") == "r1");
  CHECK(r->body.rfind("event: message_start\ndata: {\"type\":\"message_start\"", 0) == 0);
  CHECK(r->body.find("event: ping\n") != std::string::npos);
  CHECK(r->body.find("\"text_delta\",\"text\":\"Hi\"") != std::string::npos);
  const std::string stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  REQUIRE(r->body.size() > stop.size());
  CHECK(r->body.substr(r->body.size() - stop.size()) == stop);
  CHECK(obs.events == std::vector<std::string>{"start:/v1/messages", "first", "end"});
  CHECK(obs.status == 200);
}

TEST_CASE("MessagesCall non-streaming: one message object", "[anthropic_call]") {
  Recorder obs;
  auto r = run(false, &obs, [](MessagesCall& c, ServerFixture&, Exchange&) {
    c.on_chunk(text("Hel"));
    c.on_chunk(text("lo"));
    c.on_done(done());
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type") == "application/json");
  CHECK(r->body.rfind(R"({"id":"msg_r1","type":"message","role":"assistant","model":"claude-x",)"
                      R"("content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn")",
                      0) == 0);
}

TEST_CASE("MessagesCall: an error before any output is an Anthropic error with its status",
          "[anthropic_call]") {
  Recorder obs;
  auto r = run(true, &obs, [](MessagesCall& c, ServerFixture&, Exchange&) {
    protocol::JobError e;
    e.code = Code::kUnavailable;
    e.message = "No account can serve this request.";
    e.retry_after_s = 2;
    c.on_error(e);
  });
  REQUIRE(r);
  CHECK(r->status == 529);
  CHECK(r->header("retry-after") == "2");
  CHECK(
      r->body ==
      R"({"type":"error","error":{"type":"overloaded_error","message":"No account can serve this request."}})");
  CHECK(obs.status == 529);
  CHECK(obs.error_type == "overloaded_error");
}

TEST_CASE("MessagesCall: an error mid-stream is one error event, without message_stop",
          "[anthropic_call]") {
  Recorder obs;
  auto r = run(true, &obs, [](MessagesCall& c, ServerFixture&, Exchange&) {
    c.on_chunk(text("part"));
    protocol::JobError e;
    e.code = Code::kUpstream;
    e.message = "upstream broke";
    c.on_error(e);
    c.on_done(done());  // ignored once failed
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  const std::string tail =
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":"
      "\"upstream broke\"}}\n\n";
  REQUIRE(r->body.size() > tail.size());
  CHECK(r->body.substr(r->body.size() - tail.size()) == tail);
  CHECK(r->body.find("message_stop") == std::string::npos);
  CHECK(r->body.find("content_block_stop") == std::string::npos);
}

TEST_CASE("MessagesCall: pings keep an open stream alive", "[anthropic_call]") {
  Recorder obs;
  // The ping timer (10 ms) starts with the stream; the answer ends on a
  // timer due later on the same loop, so pings fire in between.
  auto r = run(
      true, &obs,
      [](MessagesCall& c, ServerFixture& f, Exchange&) {
        c.on_chunk(text("a"));
        f.loop.defer([&c] { c.on_done(done()); }, 100);
      },
      10);
  REQUIRE(r);
  size_t first_stop = r->body.find("content_block_stop");
  size_t ping_after_text = r->body.find("event: ping", r->body.find("text_delta"));
  CHECK(ping_after_text != std::string::npos);
  CHECK(ping_after_text < first_stop);
  CHECK(r->body.find("event: ping", first_stop) == std::string::npos);  // none after the end
}

TEST_CASE("MessagesCall: a dropped call reports 499 once", "[anthropic_call]") {
  Recorder obs;
  auto r = run(true, &obs, [](MessagesCall& c, ServerFixture&, Exchange& ex) {
    c.abandon("client disconnected");
    c.abandon("again");
    c.fail(ApiError{Code::kInternal, "late", {}, {}, 0});  // no-op: finished
    c.on_done(done());
    ex.respond(204, {}, "");  // the call wrote nothing
  });
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(obs.events == std::vector<std::string>{"start:/v1/messages", "end"});
  CHECK(obs.status == 499);
}
