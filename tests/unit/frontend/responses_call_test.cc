// ResponsesCall over a real loopback HTTP exchange: chunks become the
// Responses SSE events or one Response; a finished response is stored with
// its conversation (store:true) or not at all (store:false); errors before
// the first byte get OpenAI's status and body, errors after it `error` and
// response.failed; the observer hears the call as /v1/responses.
#include "frontend/responses/responses_call.h"

#include <functional>
#include <memory>
#include <optional>

#include <catch2/catch.hpp>

#include "common/uv/handle.h"
#include "tests/unit/http/server_fixture.h"

using namespace qp;
using namespace qp::frontend;
using namespace qp::frontend::responses;
using qp::http::Exchange;
using qp::http::test::ClientResponse;
using qp::http::test::ServerFixture;
using qp::http::test::TestClient;

namespace {

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
  void on_start(const RequestRecord& r) override {
    events.push_back("start:" + std::string(r.endpoint));
  }
  void on_first_content(const RequestRecord&) override { events.push_back("first"); }
  void on_end(const RequestRecord&, const RequestOutcome& o) override {
    events.push_back("end");
    status = o.http_status;
  }
};

std::optional<ClientResponse> run(bool stream, ResponseStore* store, Recorder* obs,
                                  const std::function<void(ResponsesCall&)>& drive) {
  ServerFixture f;
  std::unique_ptr<ResponsesCall> call;
  f.start({}, [&](Exchange ex) {
    ResponseEcho echo;
    echo.id = "resp_r1";
    echo.model = "qwen3-max";
    echo.created_at = 1700000000;
    call = std::make_unique<ResponsesCall>(ex, "r1", stream, ResponseEvents(std::move(echo)), store,
                                           R"([{"type":"message","role":"user","content":"q"}])");
    RequestRecord rec;
    rec.id = "r1";
    rec.endpoint = "/v1/responses";
    call->observe(obs, std::move(rec));
    drive(*call);
  });
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send("POST /v1/responses HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    r = c.read_response();
  }));
  call.reset();
  CHECK(f.finish() == 0);
  return r;
}

}  // namespace

TEST_CASE("ResponsesCall non-streaming: one Response, stored with the conversation",
          "[responses_call]") {
  auto store = ResponseStore::open(":memory:", 60'000, 10);
  REQUIRE(store);
  Recorder obs;
  auto r = run(false, store.get(), &obs, [](ResponsesCall& c) {
    c.on_chunk(text("Hel"));
    c.on_chunk(text("lo"));
    c.on_done(done());
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type") == "application/json");
  CHECK(r->body.rfind(R"({"id":"resp_r1","object":"response","created_at":1700000000,)"
                      R"("status":"completed")",
                      0) == 0);
  CHECK(obs.events == std::vector<std::string>{"start:/v1/responses", "first", "end"});
  auto stored = store->find("resp_r1", uv::now_unix_ms());
  REQUIRE(stored);
  CHECK(stored->response_json == r->body);
  CHECK(stored->items_json == R"([{"type":"message","role":"user","content":"q"},)"
                              R"({"type":"message","role":"assistant","content":"Hello"}])");
}

TEST_CASE("ResponsesCall streaming with store:false: the events, nothing stored",
          "[responses_call]") {
  auto store = ResponseStore::open(":memory:", 60'000, 10);
  Recorder obs;
  auto r = run(true, nullptr, &obs, [](ResponsesCall& c) {
    c.on_chunk(text("Hi"));
    c.on_done(done());
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type") == "text/event-stream; charset=utf-8");
  CHECK(r->body.rfind("event: response.created\ndata: {\"type\":\"response.created\"", 0) == 0);
  CHECK(r->body.find("event: response.output_item.done\n") != std::string::npos);
  CHECK(r->body.find("event: response.completed\n") != std::string::npos);
  CHECK(store->size() == 0);
}

TEST_CASE("ResponsesCall: an error before any output is an OpenAI error with its status",
          "[responses_call]") {
  Recorder obs;
  auto r = run(true, nullptr, &obs, [](ResponsesCall& c) {
    protocol::JobError e;
    e.code = Code::kRateLimited;
    e.message = "Slow down.";
    e.retry_after_s = 3;
    c.on_error(e);
  });
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->header("retry-after") == "3");
  CHECK(r->body.find(R"("message":"Slow down.")") != std::string::npos);
  CHECK(obs.status == 429);
}

TEST_CASE("ResponsesCall: an error after the first output: error, then response.failed",
          "[responses_call]") {
  auto store = ResponseStore::open(":memory:", 60'000, 10);
  Recorder obs;
  auto r = run(true, store.get(), &obs, [](ResponsesCall& c) {
    c.on_chunk(text("partial"));
    protocol::JobError e;
    e.code = Code::kUpstream;
    e.message = "upstream broke";
    c.on_error(e);
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find("event: error\n") != std::string::npos);
  const std::string tail = "\"status\":\"failed\"";
  CHECK(r->body.find("event: response.failed\n") != std::string::npos);
  CHECK(r->body.find(tail) != std::string::npos);
  CHECK(store->size() == 0);  // a failed response is not stored
}
