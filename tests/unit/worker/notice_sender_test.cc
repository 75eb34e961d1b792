#include "worker/notice_sender.h"

#include <algorithm>
#include <memory>

#include <catch2/catch.hpp>

#include "fake_upstream.h"

using qp::notices::AccountState;
using qp::notices::evaluate;
using qp::worker::notice_payload;
using qp::worker::url_host;

TEST_CASE("notice payload: text and content carry the sentence, plus the facts", "[notices]") {
  AccountState st{"alice", "ok", "", 1'780'003'600};
  auto n = evaluate(st, 1'780'000'000);
  std::string body = notice_payload(st, n);
  CHECK(body.rfind("{\"text\":\"Qwen account alice: its session token expires in 1 h", 0) == 0);
  CHECK(body.find("\"content\":\"Qwen account alice: its session token expires in 1 h") !=
        std::string::npos);
  CHECK(body.find("\"account\":\"alice\"") != std::string::npos);
  CHECK(body.find("\"kind\":\"token_expiring\"") != std::string::npos);
  CHECK(body.find("\"expires_unix_s\":1780003600") != std::string::npos);
  CHECK(body.find("\"health\":\"ok\"") != std::string::npos);
  // A detail with quotes stays valid JSON.
  AccountState bad{"bob", "credentials_invalid", "file \"bob.toml\" is open", 0};
  body = notice_payload(bad, evaluate(bad, 1'780'000'000));
  CHECK(body.find("\\\"bob.toml\\\"") != std::string::npos);
  CHECK(body.find("\"health\":\"credentials_invalid\"") != std::string::npos);
  CHECK(body.find("\"expires_unix_s\":0") != std::string::npos);
}

TEST_CASE("url_host: only the host of a webhook URL is ever logged", "[notices]") {
  CHECK(url_host("https://hooks.slack.com/services/T0/B0/secret") == "hooks.slack.com");
  CHECK(url_host("https://discord.com/api/webhooks/1/tok?wait=true") == "discord.com");
  CHECK(url_host("http://user:pass@ntfy.example:8080/topic") == "ntfy.example");
  CHECK(url_host("http://127.0.0.1:43210") == "127.0.0.1");
  CHECK(url_host("http://[::1]:80/x") == "[::1]");
  CHECK(url_host("not a url").empty());
  CHECK(url_host("").empty());
}

// NoticeSender against a scripted local webhook (FakeUpstream). Every wait
// is run_until() on a condition; a notice that must NOT be posted is shown
// absent by a later one arriving first (posts are sent in order).
namespace {

using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;

constexpr int64_t kNow = 1'780'000'000;

struct Hook {
  uv_loop_t loop{};
  std::unique_ptr<qp::worker::CurlMulti> multi;
  std::unique_ptr<qp::worker::DeferredDelete> deferred;
  std::unique_ptr<FakeUpstream> up;
  std::unique_ptr<qp::worker::NoticeSender> sender;
  std::vector<int> statuses;  // answers in order; the last one repeats

  Hook() {
    REQUIRE(uv_loop_init(&loop) == 0);
    multi = std::make_unique<qp::worker::CurlMulti>(&loop);
    REQUIRE(multi->init().ok());
    deferred = std::make_unique<qp::worker::DeferredDelete>(&loop);
    up = std::make_unique<FakeUpstream>(&loop, [this](const FakeRequest&) {
      FakeResponse r;
      size_t n = up ? up->requests().size() : 1;
      r.status = statuses.empty() ? 204 : statuses[std::min(n, statuses.size()) - 1];
      return r;
    });
    sender = std::make_unique<qp::worker::NoticeSender>(&loop, multi.get(), deferred.get(),
                                                        up->base_url() + "/hooks/T0/secret");
  }
  ~Hook() {
    sender.reset();
    up->close();
    deferred->flush();
    multi->close();
    uv_run(&loop, UV_RUN_DEFAULT);
    up.reset();
    deferred.reset();
    multi.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
  size_t posts() const { return up->requests().size(); }
  std::string body(size_t i) const { return up->requests().at(i).body; }
};

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("notice sender: one POST per transition, JSON, to the configured URL", "[notices]") {
  Hook h;
  AccountState expiring{"alice", "ok", "", kNow + 3600};
  h.sender->check(expiring, kNow);
  REQUIRE(run_until(&h.loop, [&] { return h.posts() == 1; }));
  const FakeRequest& r = h.up->requests()[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/hooks/T0/secret");
  CHECK(r.headers.at("content-type") == "application/json");
  CHECK(has(r.body, "\"kind\":\"token_expiring\""));
  // The same state again (every heartbeat): nothing. Then a real change.
  h.sender->check(expiring, kNow + 1);
  h.sender->check(expiring, kNow + 2);
  h.sender->check({"alice", "rate_limited", "", kNow + 3600}, kNow + 3);
  REQUIRE(run_until(&h.loop, [&] { return h.posts() == 2 && h.sender->queued() == 0; }));
  CHECK(has(h.body(1), "\"kind\":\"unhealthy\""));
}

TEST_CASE("notice sender: a failed POST is retried once", "[notices]") {
  Hook h;
  h.statuses = {500, 204};
  h.sender->check({"alice", "ok", "", kNow + 60}, kNow);
  REQUIRE(run_until(&h.loop, [&] { return h.posts() == 2 && h.sender->queued() == 0; }));
  CHECK(h.body(0) == h.body(1));
}

TEST_CASE("notice sender: after the retry fails too, the notice is dropped", "[notices]") {
  Hook h;
  h.statuses = {500, 502, 204};
  h.sender->check({"alice", "ok", "", kNow + 60}, kNow);
  REQUIRE(run_until(&h.loop, [&] { return h.posts() == 2; }));
  // The next notice is the third request: the first was not tried a third time.
  h.sender->check({"alice", "credentials_invalid", "", kNow + 60}, kNow);
  REQUIRE(run_until(&h.loop, [&] { return h.posts() == 3 && h.sender->queued() == 0; }));
  CHECK(has(h.body(0), "token_expiring"));
  CHECK(has(h.body(1), "token_expiring"));
  CHECK(has(h.body(2), "\"kind\":\"unhealthy\""));
}

TEST_CASE("notice sender: without a URL notices are only logged", "[notices]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    qp::worker::CurlMulti multi(&loop);
    REQUIRE(multi.init().ok());
    qp::worker::DeferredDelete deferred(&loop);
    qp::worker::NoticeSender sender(&loop, &multi, &deferred, "");
    sender.check({"alice", "ok", "", kNow + 60}, kNow);
    CHECK(sender.queued() == 0);
    CHECK(multi.active() == 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
