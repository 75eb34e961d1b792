#include <catch2/catch.hpp>
#include <simdjson.h>

#include "frontend/admin/event_hub.h"
#include "frontend/admin/render.h"

using namespace qp::frontend::admin;
using qp::protocol::AccountSummary;

namespace {

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element e;
  REQUIRE(p.parse(s).get(e) == simdjson::SUCCESS);
  return e;
}

AccountSummary alice() {
  AccountSummary a;
  a.account = "alice";
  a.health = "rate_limited";
  a.capacity = 4;
  a.in_flight = 1;
  a.token_expires_unix_s = 2'000'000'000;
  a.detail = "quota";
  a.draining = true;
  a.pid = 1234;
  a.started_unix_ms = 1'000'000;
  a.restarts = 2;
  a.health_until_unix_ms = 5'000;
  return a;
}

}  // namespace

TEST_CASE("account object has the contract's fields", "[admin]") {
  std::string out;
  qp::json::Writer w(&out);
  ErrorEntry err{42, "req", "/v1/chat/completions", "m", "alice", 502, "server_error", "", "boom"};
  AccountExtras x;
  x.last_hour = {3, 1, 10, 20};
  x.last_error = &err;
  write_account(w, alice(), x);
  simdjson::dom::parser p;
  auto a = parse(p, out);
  CHECK(std::string_view(a["name"]) == "alice");
  CHECK(std::string_view(a["health"]) == "rate_limited");
  CHECK(std::string_view(a["reason"]) == "quota");
  CHECK(int64_t(a["token_expires_unix_s"]) == 2'000'000'000);
  CHECK(int64_t(a["capacity"]) == 4);
  CHECK(int64_t(a["in_flight"]) == 1);
  CHECK(int64_t(a["cooldown_until_unix_ms"]) == 5000);
  CHECK(bool(a["draining"]));
  CHECK(int64_t(a["last_hour"]["requests"]) == 3);
  CHECK(int64_t(a["last_hour"]["errors"]) == 1);
  CHECK(int64_t(a["last_hour"]["tokens_in"]) == 10);
  CHECK(int64_t(a["last_hour"]["tokens_out"]) == 20);
  CHECK(int64_t(a["last_error"]["at_unix_ms"]) == 42);
  CHECK(std::string_view(a["last_error"]["type"]) == "server_error");
  CHECK(std::string_view(a["last_error"]["message"]) == "boom");
  CHECK(int64_t(a["worker"]["pid"]) == 1234);
  CHECK(int64_t(a["worker"]["started_unix_ms"]) == 1'000'000);
  CHECK(int64_t(a["worker"]["restarts"]) == 2);

  AccountSummary bare;
  bare.account = "bob";
  bare.health = "ok";
  out.clear();
  qp::json::Writer w2(&out);
  write_account(w2, bare, AccountExtras{});
  auto b = parse(p, out);
  CHECK(b["token_expires_unix_s"].is_null());
  CHECK(b["cooldown_until_unix_ms"].is_null());
  CHECK(b["last_error"].is_null());
  CHECK_FALSE(bool(b["draining"]));

  // A cooldown that has ended is not reported.
  AccountExtras later;
  later.now_unix_ms = 5'000;
  out.clear();
  qp::json::Writer w3(&out);
  write_account(w3, alice(), later);
  CHECK(parse(p, out)["cooldown_until_unix_ms"].is_null());
}

TEST_CASE("worker, live request, error and request events", "[admin]") {
  simdjson::dom::parser p;
  std::string out;
  qp::json::Writer w(&out);
  write_worker(w, alice(), "brk", 61'000'000);
  auto wk = parse(p, out);
  CHECK(std::string_view(wk["account"]) == "alice");
  CHECK(int64_t(wk["uptime_s"]) == 60'000);
  CHECK(std::string_view(wk["instance"]) == "brk");

  qp::frontend::RequestRecord r;
  r.id = "r1";
  r.endpoint = "/v1/chat/completions";
  r.model = "qwen3-max";
  r.key = "team";
  r.account = "alice";
  r.stream = true;
  r.start_unix_ms = 1000;
  r.start_ns = 1'000'000'000;
  r.first_content_ns = 1'250'000'000;
  r.chunks = 7;
  out.clear();
  qp::json::Writer w2(&out);
  write_live_request(w2, r, 3500);
  auto lr = parse(p, out);
  CHECK(std::string_view(lr["id"]) == "r1");
  CHECK(std::string_view(lr["account"]) == "alice");
  CHECK(std::string_view(lr["key"]) == "team");
  CHECK(bool(lr["stream"]));
  CHECK(int64_t(lr["age_ms"]) == 2500);
  CHECK(int64_t(lr["chunks"]) == 7);

  qp::protocol::Usage u{11, 22, 33};
  qp::frontend::RequestOutcome o;
  o.usage = &u;
  out.clear();
  qp::json::Writer w3(&out);
  write_request_end(w3, r, o, 3'000'000'000);
  auto re = parse(p, out);
  CHECK(int64_t(re["status"]) == 200);
  CHECK(int64_t(re["duration_ms"]) == 2000);
  CHECK(int64_t(re["ttfc_ms"]) == 250);
  CHECK(int64_t(re["tokens_in"]) == 11);
  CHECK(int64_t(re["tokens_out"]) == 22);
  CHECK(std::string_view(re["account"]) == "alice");

  out.clear();
  qp::json::Writer w4(&out);
  write_request_start(w4, r);
  auto rs = parse(p, out);
  CHECK(std::string_view(rs["endpoint"]) == "/v1/chat/completions");
  CHECK(bool(rs["stream"]));

  out.clear();
  append_sse_event(&out, "request.start", "{\"a\":1}");
  CHECK(out == "event: request.start\ndata: {\"a\":1}\n\n");
}

TEST_CASE("notices: expired, expiring within a day, unhealthy", "[admin]") {
  const int64_t now = 1'000'000;
  std::vector<AccountSummary> v(4);
  v[0].account = "old";
  v[0].health = "ok";
  v[0].token_expires_unix_s = now - 1;
  v[1].account = "soon";
  v[1].health = "ok";
  v[1].token_expires_unix_s = now + 3 * 3600;
  v[2].account = "fine";
  v[2].health = "ok";
  v[2].token_expires_unix_s = now + 48 * 3600;
  v[3].account = "sick";
  v[3].health = "credentials_invalid";
  v[3].detail = "bad cookie";
  auto n = account_notices(v, now);
  REQUIRE(n.size() == 3);
  CHECK(n[0].account == "old");
  CHECK(n[0].kind == "token_expired");
  CHECK(n[1].account == "soon");
  CHECK(n[1].kind == "token_expiring");
  CHECK(n[1].message.find("3 h") != std::string::npos);
  CHECK(n[2].account == "sick");
  CHECK(n[2].kind == "unhealthy");
  CHECK(n[2].message.find("bad cookie") != std::string::npos);
  std::string out;
  qp::json::Writer w(&out);
  write_notice(w, n[2]);
  simdjson::dom::parser p;
  auto j = parse(p, out);
  CHECK(j["expires_unix_s"].is_null());
  CHECK(std::string_view(j["kind"]) == "unhealthy");
}

namespace {

struct FakeSink : EventSink {
  std::string* got;
  size_t* backlog_bytes;
  bool* closed;
  bool alive = true;
  FakeSink(std::string* g, size_t* b, bool* c) : got(g), backlog_bytes(b), closed(c) {}
  bool send(std::string data) override {
    if (!alive) return false;
    got->append(data);
    return true;
  }
  size_t backlog() const override { return *backlog_bytes; }
  void close() override { *closed = true; }
};

}  // namespace

TEST_CASE("event hub: fan-out, ping, a slow subscriber is dropped", "[admin]") {
  EventHub hub(100);
  std::string a_got, b_got;
  size_t a_backlog = 0, b_backlog = 0;
  bool a_closed = false, b_closed = false;
  hub.add(std::make_unique<FakeSink>(&a_got, &a_backlog, &a_closed), "hello-a\n");
  uint64_t b = hub.add(std::make_unique<FakeSink>(&b_got, &b_backlog, &b_closed), "hello-b\n");
  CHECK(hub.size() == 2);
  hub.publish("x", "{}");
  CHECK(a_got == "hello-a\nevent: x\ndata: {}\n\n");
  CHECK(b_got == "hello-b\nevent: x\ndata: {}\n\n");
  hub.ping();
  CHECK(a_got.find(": ping\n\n") != std::string::npos);

  b_backlog = 101;  // b stopped reading
  hub.publish("y", "{}");
  CHECK(b_closed);
  CHECK(hub.size() == 1);
  CHECK(b_got.find("event: y") == std::string::npos);
  CHECK(a_got.find("event: y") != std::string::npos);
  hub.remove(b);  // already gone: harmless
  CHECK(hub.size() == 1);

  hub.close_all();
  CHECK(a_closed);
  CHECK(hub.empty());
  hub.publish("z", "{}");  // nobody: nothing happens
  CHECK(a_got.find("event: z") == std::string::npos);
}
