// CurlMulti's idle easy handles (curl_multi.h take_easy()/give_easy()): a
// handle is reused, at most kMaxIdleEasies are kept, and a reused handle
// carries nothing of the request that used it before (curl_easy_reset).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fake_upstream.h"
#include "worker/curl_multi.h"
#include "worker/http_request.h"

using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;
using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

TEST_CASE("easy pool: handles are reused, a bounded number kept", "[curl]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    CurlMulti multi(&loop);
    REQUIRE(multi.init().ok());
    EasyPtr a = multi.take_easy();
    REQUIRE(a);
    CURL* raw = a.get();
    multi.give_easy(std::move(a));
    CHECK(multi.idle_easies() == 1);
    EasyPtr b = multi.take_easy();
    CHECK(b.get() == raw);
    CHECK(multi.idle_easies() == 0);
    std::vector<EasyPtr> many;
    for (size_t i = 0; i < CurlMulti::kMaxIdleEasies + 3; ++i) many.push_back(multi.take_easy());
    for (auto& e : many) multi.give_easy(std::move(e));
    CHECK(multi.idle_easies() == CurlMulti::kMaxIdleEasies);
    multi.close();
    CHECK(multi.idle_easies() == 0);
    multi.give_easy(std::move(b));  // after close: cleaned up, not kept
    CHECK(multi.idle_easies() == 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

namespace {

struct Done final : HttpRequest::Listener {
  std::optional<HttpResult> result;
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult r) override { result = std::move(r); }
};

}  // namespace

TEST_CASE("easy pool: a reused handle sends only its own request's options", "[curl]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    FakeUpstream up(&loop, [](const FakeRequest&) {
      FakeResponse r;
      r.pieces = {R"({"success":true})"};
      return r;
    });
    CurlMulti multi(&loop);
    REQUIRE(multi.init().ok());
    {
      HttpRequestSpec first;
      first.post = true;
      first.url = up.base_url() + "/first";
      first.headers = {"X-First: 1"};
      first.cookies = "token=secret";
      first.body = "{}";
      Done d1;
      auto r1 = std::make_unique<HttpRequest>(&multi, std::move(first), &d1);
      REQUIRE(r1->start().ok());
      REQUIRE(run_until(&loop, [&] { return d1.result.has_value(); }));
      r1.reset();  // the handle goes back to the pool
      REQUIRE(multi.idle_easies() == 1);

      HttpRequestSpec second;
      second.url = up.base_url() + "/second";
      Done d2;
      HttpRequest r2(&multi, std::move(second), &d2);
      REQUIRE(r2.start().ok());
      CHECK(multi.idle_easies() == 0);  // the same handle again
      REQUIRE(run_until(&loop, [&] { return d2.result.has_value(); }));
      CHECK(d2.result->status == 200);
    }
    REQUIRE(up.requests().size() == 2);
    const FakeRequest& again = up.requests()[1];
    CHECK(again.method == "GET");
    CHECK(again.target == "/second");
    CHECK(again.headers.count("x-first") == 0);
    CHECK(again.headers.count("cookie") == 0);
    CHECK(again.body.empty());
    multi.close();
    up.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

namespace {

// Notes how many idle handles the pool holds when on_complete() runs.
struct SeesPool final : HttpRequest::Listener {
  explicit SeesPool(CurlMulti* m) : multi(m) {}
  CurlMulti* multi;
  std::optional<HttpResult> result;
  size_t idle_at_complete = 0;
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult r) override {
    idle_at_complete = multi->idle_easies();
    result = std::move(r);
  }
};

}  // namespace

// A finished request its owner keeps (ChatCall keeps its chats/new request
// for the whole stream) holds no easy handle: it is back in the pool before
// on_complete() (docs/benchmarks.md, "Step 6: memory per open stream").
TEST_CASE("easy pool: a finished request gives its handle back before on_complete", "[curl]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    FakeUpstream up(&loop, [](const FakeRequest&) {
      FakeResponse r;
      r.pieces = {R"({"success":true})"};
      return r;
    });
    CurlMulti multi(&loop);
    REQUIRE(multi.init().ok());
    {
      HttpRequestSpec spec;
      spec.post = true;
      spec.url = up.base_url() + "/kept";
      spec.headers = {"X-Kept: 1"};
      spec.body = R"({"kept":true})";
      SeesPool seen(&multi);
      HttpRequest r(&multi, std::move(spec), &seen);
      REQUIRE(r.start().ok());
      CHECK(multi.idle_easies() == 0);
      REQUIRE(run_until(&loop, [&] { return seen.result.has_value(); }));
      CHECK(seen.result->status == 200);
      CHECK(seen.result->body == R"({"success":true})");
      CHECK(seen.idle_at_complete == 1);  // r still exists, its handle does not
      CHECK(multi.idle_easies() == 1);
      CHECK_FALSE(r.start().ok());  // a request is started once
    }
    CHECK(multi.idle_easies() == 1);  // destroying the finished request gives nothing twice
    REQUIRE(up.requests().size() == 1);
    CHECK(up.requests()[0].body == R"({"kept":true})");
    multi.close();
    up.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

namespace {

// Notes, at the first streamed bytes, whether the request still holds its body.
struct SeesBody final : HttpRequest::Listener {
  HttpRequest* request = nullptr;
  std::optional<bool> held_at_first_data;
  std::string data;
  std::optional<HttpResult> result;
  bool on_stream_data(std::string_view bytes) override {
    if (!held_at_first_data) held_at_first_data = request->holds_body();
    data.append(bytes);
    return true;
  }
  void on_complete(HttpResult r) override { result = std::move(r); }
};

}  // namespace

// A long stream does not keep its request: the POST body is freed at the first
// response byte, once curl has sent all of it.
TEST_CASE("http request: the POST body is freed once sent, at the first response byte", "[curl]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    FakeUpstream up(&loop, [](const FakeRequest&) {
      FakeResponse r;
      r.content_type = "text/event-stream";
      r.pieces = {"data: {\"a\":1}\n\n", "data: {\"a\":2}\n\n"};
      return r;
    });
    CurlMulti multi(&loop);
    REQUIRE(multi.init().ok());
    {
      const std::string body(20000,
                             'x');  // more than one send, less than curl's 64 KiB inline limit
      HttpRequestSpec spec;
      spec.post = true;
      spec.stream = true;
      spec.url = up.base_url() + "/stream";
      spec.body = body;
      SeesBody seen;
      HttpRequest r(&multi, std::move(spec), &seen);
      seen.request = &r;
      REQUIRE(r.start().ok());
      CHECK(r.holds_body());
      REQUIRE(run_until(&loop, [&] { return seen.result.has_value(); }));
      CHECK(seen.held_at_first_data == std::optional<bool>(false));
      CHECK(seen.data == "data: {\"a\":1}\n\ndata: {\"a\":2}\n\n");
      REQUIRE(up.requests().size() == 1);
      CHECK(up.requests()[0].body == body);  // all of it was sent
    }
    multi.close();
    up.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
