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
