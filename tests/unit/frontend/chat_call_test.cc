// ChatCall end to end over a real loopback HTTP exchange: text and tool-call
// chunks from the broker become OpenAI's SSE events or one chat.completion.
#include "frontend/chat_call.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include <catch2/catch.hpp>

#include "tests/unit/http/server_fixture.h"

using namespace qp;
using namespace qp::frontend;
using qp::http::Exchange;
using qp::http::test::ClientResponse;
using qp::http::test::ServerFixture;
using qp::http::test::TestClient;

namespace {

std::string post() {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}";
}

// Runs one call: the handler feeds `chunks` and `done` to a ChatCall.
std::optional<ClientResponse> run(bool stream, const std::vector<protocol::JobChunk>& chunks,
                                  const protocol::JobDone& done) {
  ServerFixture f;
  std::unique_ptr<ChatCall> call;
  f.start({}, [&](Exchange ex) {
    call = std::make_unique<ChatCall>(ex, "r1", "qwen3-max", stream, false, 7);
    for (const auto& c : chunks) call->on_chunk(c);
    call->on_done(done);
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

protocol::JobChunk text(std::string s) {
  protocol::JobChunk c;
  c.content = std::move(s);
  return c;
}

protocol::JobChunk tool_call(int32_t index, std::string id, std::string name, std::string args) {
  protocol::JobChunk c;
  c.tool_calls.push_back({index, std::move(id), std::move(name), ""});
  c.tool_calls.push_back({index, "", "", std::move(args)});
  return c;
}

protocol::JobDone done_with(std::string reason) {
  protocol::JobDone d;
  d.finish_reason = std::move(reason);
  d.has_usage = true;
  d.usage = {3, 4, 7};
  return d;
}

}  // namespace

TEST_CASE("streamed tool calls: tool_calls deltas and finish_reason tool_calls", "[chat_call]") {
  auto r = run(true,
               {text("Reading."), tool_call(0, "call_a", "read_file", R"({"path":"a"})"),
                tool_call(1, "call_b", "list_files", "{}")},
               done_with("tool_calls"));
  REQUIRE(r);
  CHECK(r->status == 200);
  const std::string prefix =
      "data: {\"id\":\"chatcmpl-r1\",\"object\":\"chat.completion.chunk\",\"created\":7,"
      "\"model\":\"qwen3-max\",\"system_fingerprint\":\"fp_qwenproxy\",\"choices\":[{\"index\":0,"
      "\"delta\":{";
  const std::string tail = "},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
  CHECK(r->body ==
        prefix + "\"role\":\"assistant\",\"content\":\"\"" + tail +  //
            prefix + "\"content\":\"Reading.\"" + tail +             //
            prefix +
            "\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":"
            "{\"name\":\"read_file\",\"arguments\":\"\"}}]" +
            tail + prefix +
            "\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"path\\\":\\\"a\\\"}\"}"
            "}]" +
            tail + prefix +
            "\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":"
            "{\"name\":\"list_files\",\"arguments\":\"\"}}]" +
            tail + prefix + "\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{}\"}}]" +
            tail + prefix + "},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]}\n\n" +
            "data: [DONE]\n\n");
}

TEST_CASE("a stream that starts with a tool call starts the response", "[chat_call]") {
  auto r = run(true, {tool_call(0, "call_a", "read_file", "{}")}, done_with("tool_calls"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find("\"role\":\"assistant\"") != std::string::npos);
  CHECK(r->body.find("\"id\":\"call_a\"") != std::string::npos);
}

TEST_CASE("non-streamed tool calls: message.tool_calls, content null", "[chat_call]") {
  auto r = run(false,
               {tool_call(0, "call_a", "read_file", R"({"path":)"),
                [] {
                  protocol::JobChunk c;  // a later arguments fragment of call 0
                  c.tool_calls.push_back({0, "", "", R"("a"})"});
                  return c;
                }(),
                tool_call(1, "call_b", "list_files", "{}")},
               done_with("tool_calls"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(
      r->body.find("\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                   "{\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"read_file\","
                   "\"arguments\":\"{\\\"path\\\":\\\"a\\\"}\"}},{\"id\":\"call_b\",\"type\":"
                   "\"function\",\"function\":{\"name\":\"list_files\",\"arguments\":\"{}\"}}],"
                   "\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":"
                   "\"tool_calls\"}]") != std::string::npos);
}

TEST_CASE("non-streamed text and a call keep the text", "[chat_call]") {
  auto r = run(false, {text("Reading."), tool_call(0, "call_a", "read_file", "{}")},
               done_with("tool_calls"));
  REQUIRE(r);
  CHECK(r->body.find("\"content\":\"Reading.\",\"tool_calls\":[{\"id\":\"call_a\"") !=
        std::string::npos);
}

TEST_CASE("non-streamed text without calls is unchanged", "[chat_call]") {
  auto r = run(false, {text("hi")}, done_with("stop"));
  REQUIRE(r);
  CHECK(r->body.find("\"content\":\"hi\",\"refusal\":null") != std::string::npos);
  CHECK(r->body.find("tool_calls") == std::string::npos);
}

namespace {

struct RecordingObserver : RequestObserver {
  std::vector<std::string> events;
  RequestRecord last;
  int status = 0;
  std::string error_type;
  int64_t completion_tokens = -1;
  void on_start(const RequestRecord& r) override { events.push_back("start:" + r.id); }
  void on_first_content(const RequestRecord& r) override {
    events.push_back("first:" + std::to_string(r.chunks));
  }
  void on_end(const RequestRecord& r, const RequestOutcome& o) override {
    events.push_back("end:" + std::to_string(r.chunks));
    last = r;
    status = o.http_status;
    error_type = std::string(o.error_type);
    if (o.usage != nullptr) completion_tokens = o.usage->completion_tokens;
  }
};

// Runs one observed call; `drive` feeds it. The call is destroyed after the
// client read its response.
void run_observed(RecordingObserver* obs, const std::function<void(ChatCall&)>& drive) {
  ServerFixture f;
  std::unique_ptr<ChatCall> call;
  f.start({}, [&](Exchange ex) {
    call = std::make_unique<ChatCall>(ex, "r9", "qwen3-max", true, false, 7);
    RequestRecord rec;
    rec.id = "r9";
    rec.endpoint = "/v1/chat/completions";
    rec.model = "qwen3-max";
    rec.start_ns = steady_now_ns();
    call->observe(obs, std::move(rec));
    drive(*call);
  });
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(post());
    (void)c.read_response();
  }));
  call.reset();
  CHECK(f.finish() == 0);
}

}  // namespace

TEST_CASE("ChatCall reports start, first content once, and end with usage", "[chat_call]") {
  RecordingObserver obs;
  run_observed(&obs, [](ChatCall& c) {
    c.on_chunk(protocol::JobChunk{});  // empty: not content
    c.on_chunk(text("a"));
    c.on_chunk(text("b"));
    auto d = done_with("stop");
    d.account = "alice";
    d.has_usage = true;
    d.usage.completion_tokens = 5;
    c.on_done(d);
    c.on_error(protocol::JobError{});  // after the end: ignored
  });
  CHECK(obs.events == std::vector<std::string>{"start:r9", "first:1", "end:2"});
  CHECK(obs.status == 200);
  CHECK(obs.error_type.empty());
  CHECK(obs.completion_tokens == 5);
  CHECK(obs.last.account == "alice");
  CHECK(obs.last.first_content_ns >= obs.last.start_ns);
}

TEST_CASE("ChatCall reports an error end once, and 499 when dropped unfinished", "[chat_call]") {
  RecordingObserver failed;
  run_observed(&failed, [](ChatCall& c) {
    protocol::JobError e;
    e.code = Code::kRateLimited;
    e.message = "slow down";
    c.on_error(e);
  });
  CHECK(failed.events == std::vector<std::string>{"start:r9", "end:0"});
  CHECK(failed.status == 429);
  CHECK(failed.error_type == "rate_limit_error");

  RecordingObserver dropped;
  run_observed(&dropped, [](ChatCall& c) {
    c.on_chunk(text("partial"));
    c.exchange().end();  // the response ends; the call is destroyed unfinished afterwards
  });
  CHECK(dropped.events == std::vector<std::string>{"start:r9", "first:1", "end:1"});
  CHECK(dropped.status == 499);
}

TEST_CASE("ChatCall learns the account from the first CHUNK (live requests)",
          "[chat_call][admin]") {
  RecordingObserver obs;
  std::string while_streaming;
  run_observed(&obs, [&](ChatCall& c) {
    auto first = text("a");
    first.account = "bob";
    c.on_chunk(first);
    while_streaming = c.record().account;
    c.on_chunk(text("b"));  // later chunks carry no account: it stays
    c.on_error(protocol::JobError{});
  });
  CHECK(while_streaming == "bob");
  CHECK(obs.last.account == "bob");
}

TEST_CASE("an operator's cancel ends a stream with a cancelled error event", "[chat_call][admin]") {
  RecordingObserver obs;
  run_observed(&obs, [](ChatCall& c) {
    c.on_chunk(text("partial"));
    ApiError e{Code::kUnavailable, "The request was cancelled by an operator.", {}, "cancelled", 0};
    e.type = "cancelled";
    c.fail(e);
  });
  CHECK(obs.status == 503);
  CHECK(obs.error_type == "cancelled");
}

TEST_CASE("streamed search sources: annotations on the final delta, spanning the answer",
          "[chat_call][search]") {
  protocol::JobDone d = done_with("stop");
  d.sources = {{"https://a.example/1", "A"}};
  auto r = run(true, {text("h\xc3\xa9"), text("llo")}, d);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find("\"delta\":{\"annotations\":[{\"type\":\"url_citation\",\"url_citation\":{"
                     "\"start_index\":0,\"end_index\":5,\"url\":\"https://a.example/1\","
                     "\"title\":\"A\"}}]},\"logprobs\":null,\"finish_reason\":\"stop\"") !=
        std::string::npos);
  auto n = run(false, {text("h\xc3\xa9"), text("llo")}, d);
  REQUIRE(n);
  CHECK(n->body.find("\"annotations\":[{\"type\":\"url_citation\",\"url_citation\":{"
                     "\"start_index\":0,\"end_index\":5,") != std::string::npos);
}

TEST_CASE("keep-alive comments during a silence start the stream; output follows",
          "[chat_call][keepalive]") {
  ServerFixture f;
  std::unique_ptr<ChatCall> call;
  std::atomic<bool> seen{false};
  bool delivered = false;
  // Polled on the loop: once the client saw a keep-alive, the job's output arrives.
  std::function<void()> check = [&] {
    if (delivered || !seen.load() || !call) return;
    delivered = true;
    call->on_chunk(text("late"));
    call->on_done(done_with("stop"));
  };
  uv::Timer poll;
  f.start({}, [&](Exchange ex) {
    call = std::make_unique<ChatCall>(ex, "r1", "qwen3-max", true, false, 7);
    call->start_keepalive(f.loop.get(), 10);
    uv_timer_init(f.loop.get(), poll.get());
    poll.get()->data = &check;
    uv_timer_start(
        poll.get(),
        [](uv_timer_t* t) {
          auto* fn = static_cast<std::function<void()>*>(t->data);
          if (fn != nullptr) (*fn)();
        },
        1, 1);
  });
  std::optional<ClientResponse> r;
  bool saw_comment = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(post());
    saw_comment = c.read_until(": keep-alive\n\n");
    seen = true;
    r = c.read_response();
  }));
  poll.reset();
  call.reset();
  CHECK(f.finish() == 0);
  CHECK(saw_comment);
  REQUIRE(r);
  CHECK(r->status == 200);
  size_t ka = r->body.find(": keep-alive\n\n");
  size_t late = r->body.find("\"content\":\"late\"");
  REQUIRE(ka != std::string::npos);
  REQUIRE(late != std::string::npos);
  CHECK(ka < late);
  CHECK(r->body.find("data: [DONE]") != std::string::npos);
}
