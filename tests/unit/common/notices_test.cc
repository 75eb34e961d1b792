#include "common/notices.h"

#include <catch2/catch.hpp>

using qp::notices::AccountState;
using qp::notices::evaluate;
using qp::notices::Kind;
using qp::notices::kind_name;
using qp::notices::Tracker;

namespace {
constexpr int64_t kNow = 1'780'000'000;
constexpr int64_t kHour = 3600;
}  // namespace

TEST_CASE("notices: a healthy account whose token is far from expiry has nothing to say") {
  auto n = evaluate({"alice", "ok", "", kNow + 3 * 24 * kHour}, kNow);
  CHECK(n.kind == Kind::kNone);
  CHECK(n.message.empty());
  CHECK(evaluate({"alice", "", "", 0}, kNow).kind == Kind::kNone);  // unknown expiry
}

TEST_CASE("notices: a token expiring within 24 h is token_expiring, with when and how to fix") {
  auto n = evaluate({"alice", "ok", "", kNow + kHour}, kNow);
  CHECK(n.kind == Kind::kTokenExpiring);
  CHECK(kind_name(n.kind) == "token_expiring");
  CHECK(n.expires_in_s == kHour);
  CHECK(n.message.find("Qwen account alice") != std::string::npos);
  CHECK(n.message.find("expires in 1 h") != std::string::npos);
  CHECK(n.message.find("UTC") != std::string::npos);
  CHECK(n.message.find("qwenproxy account import alice") != std::string::npos);
  // The boundary: exactly 24 h left is not yet "expiring".
  CHECK(evaluate({"a", "ok", "", kNow + 24 * kHour}, kNow).kind == Kind::kNone);
  CHECK(evaluate({"a", "ok", "", kNow + 24 * kHour - 1}, kNow).kind == Kind::kTokenExpiring);
}

TEST_CASE("notices: a token at or past its exp is token_expired, whatever the health") {
  CHECK(evaluate({"a", "ok", "", kNow}, kNow).kind == Kind::kTokenExpired);
  auto n = evaluate({"a", "credentials_invalid", "token expired", kNow - 2 * kHour}, kNow);
  CHECK(n.kind == Kind::kTokenExpired);
  CHECK(n.expires_in_s == -2 * kHour);
  CHECK(n.message.find("expired 2 h ago") != std::string::npos);
}

TEST_CASE("notices: any health but ok is unhealthy, with the health and detail") {
  auto n = evaluate({"bob", "rate_limited", "", kNow + 10 * 24 * kHour}, kNow);
  CHECK(n.kind == Kind::kUnhealthy);
  CHECK(n.message == "Qwen account bob is unhealthy (rate_limited).");
  n = evaluate({"bob", "credentials_invalid", "file is readable by others", 0}, kNow);
  CHECK(n.kind == Kind::kUnhealthy);
  CHECK(n.message ==
        "Qwen account bob is unhealthy (credentials_invalid): file is readable by others.");
  // Unhealthy outranks an expiring token (the more urgent problem first).
  CHECK(evaluate({"bob", "upstream_unreachable", "", kNow + kHour}, kNow).kind == Kind::kUnhealthy);
}

TEST_CASE("notices: human_duration") {
  using qp::notices::human_duration;
  CHECK(human_duration(0) == "0 s");
  CHECK(human_duration(59) == "59 s");
  CHECK(human_duration(60) == "1 min");
  CHECK(human_duration(3600 + 3 * 60 + 5) == "1 h 3 min");
  CHECK(human_duration(2 * 3600) == "2 h");
  CHECK(human_duration(2 * 24 * 3600 + 3600) == "2 d 1 h");
  CHECK(human_duration(-5) == "0 s");
}

TEST_CASE("notices: the tracker reports each transition once") {
  Tracker t;
  const int64_t exp = kNow + kHour;
  auto n = t.update({"alice", "ok", "", exp}, kNow);
  CHECK(n.kind == Kind::kTokenExpiring);
  // Same state on every heartbeat: silent, although the time moves on.
  CHECK(t.update({"alice", "ok", "", exp}, kNow + 1).kind == Kind::kNone);
  CHECK(t.update({"alice", "ok", "", exp}, kNow + 600).kind == Kind::kNone);
  // Another account is tracked apart.
  CHECK(t.update({"bob", "ok", "", exp}, kNow).kind == Kind::kTokenExpiring);
  // Time passes the expiry: a new transition.
  CHECK(t.update({"alice", "ok", "", exp}, exp).kind == Kind::kTokenExpired);
  CHECK(t.update({"alice", "ok", "", exp}, exp + 5).kind == Kind::kNone);
  // Fresh credentials: recovery is remembered, not reported.
  CHECK(t.update({"alice", "ok", "", kNow + 30 * 24 * kHour}, exp + 10).kind == Kind::kNone);
  // Unhealthy, then a different unhealthy health: two notices; same again: none.
  CHECK(t.update({"alice", "rate_limited", "", 0}, kNow).kind == Kind::kUnhealthy);
  CHECK(t.update({"alice", "rate_limited", "", 0}, kNow).kind == Kind::kNone);
  CHECK(t.update({"alice", "credentials_invalid", "x", 0}, kNow).kind == Kind::kUnhealthy);
  // Back to ok and unhealthy again: reported again.
  CHECK(t.update({"alice", "ok", "", 0}, kNow).kind == Kind::kNone);
  CHECK(t.update({"alice", "rate_limited", "", 0}, kNow).kind == Kind::kUnhealthy);
  // forget(): the next problem of that account is new.
  t.forget("alice");
  CHECK(t.update({"alice", "rate_limited", "", 0}, kNow).kind == Kind::kUnhealthy);
}
