#include "tools/mock-qwen/faults.h"

#include <string>

#include <catch2/catch.hpp>

#include "tools/mock-qwen/mock_config.h"

using namespace qp::mock;  // NOLINT(google-build-using-namespace): test brevity

namespace {
Fault fault(FaultKind kind, int64_t remaining = -1, std::string user = "") {
  Fault f;
  f.kind = kind;
  f.remaining = remaining;
  f.user = std::move(user);
  return f;
}
}  // namespace

TEST_CASE("scope all fires on every matching request", "[faults]") {
  FaultSet set;
  set.add(fault(FaultKind::kRateLimited));
  for (int i = 0; i < 3; ++i) {
    auto hits = set.fire(FaultEndpoint::kCompletions, "u", true);
    REQUIRE(hits.reject);
    CHECK(hits.reject->kind == FaultKind::kRateLimited);
  }
  CHECK_FALSE(set.fire(FaultEndpoint::kChatsNew, "u", false).reject);  // other endpoint
}

TEST_CASE("scope next N fires N times then disappears", "[faults]") {
  FaultSet set;
  set.add(fault(FaultKind::kWafJson, 2));
  CHECK(set.fire(FaultEndpoint::kCompletions, "u", true).reject);
  CHECK(set.fire(FaultEndpoint::kCompletions, "u", true).reject);
  CHECK_FALSE(set.fire(FaultEndpoint::kCompletions, "u", true).reject);
  CHECK(set.faults().empty());
}

TEST_CASE("user scope only hits that user", "[faults]") {
  FaultSet set;
  set.add(fault(FaultKind::kUnauthorized, -1, "alice"));
  CHECK_FALSE(set.fire(FaultEndpoint::kCompletions, "bob", true).reject);
  CHECK(set.fire(FaultEndpoint::kCompletions, "alice", true).reject);
}

TEST_CASE("only the first rejecting fault is consumed", "[faults]") {
  FaultSet set;
  set.add(fault(FaultKind::kInternalError, 1));
  set.add(fault(FaultKind::kModeration, 1));
  auto h1 = set.fire(FaultEndpoint::kCompletions, "u", true);
  REQUIRE(h1.reject);
  CHECK(h1.reject->kind == FaultKind::kInternalError);
  auto h2 = set.fire(FaultEndpoint::kCompletions, "u", true);
  REQUIRE(h2.reject);
  CHECK(h2.reject->kind == FaultKind::kModeration);
  CHECK_FALSE(set.fire(FaultEndpoint::kCompletions, "u", true).reject);
}

TEST_CASE("stream-shaping faults combine and need a stream", "[faults]") {
  FaultSet set;
  Fault slow = fault(FaultKind::kSlowFirstByte, 1);
  slow.delay_ms = 300;
  Fault err = fault(FaultKind::kMidStreamError, 1);
  err.after = 4;
  Fault drop = fault(FaultKind::kDropMidStream);
  drop.after = 2;
  drop.endpoint = FaultEndpoint::kAny;
  set.add(slow);
  set.add(err);
  set.add(drop);
  auto none = set.fire(FaultEndpoint::kCompletions, "u", false);  // stream:false: not consumed
  CHECK(none.first_byte_delay_ms == 0);
  CHECK(none.error_after == -1);
  auto hits = set.fire(FaultEndpoint::kCompletions, "u", true);
  CHECK_FALSE(hits.reject);
  CHECK(hits.first_byte_delay_ms == 300);
  CHECK(hits.error_after == 4);
  CHECK(hits.drop_after == 2);
  auto again = set.fire(FaultEndpoint::kCompletions, "u", true);
  CHECK(again.first_byte_delay_ms == 0);
  CHECK(again.error_after == -1);
  CHECK(again.drop_after == 2);  // unlimited
}

TEST_CASE("a rejected request consumes no stream-shaping fault", "[faults]") {
  FaultSet set;
  set.add(fault(FaultKind::kInternalError, 1));
  Fault err = fault(FaultKind::kMidStreamError, 1);
  err.after = 2;
  set.add(err);
  auto first = set.fire(FaultEndpoint::kCompletions, "u", true);
  REQUIRE(first.reject);
  CHECK(first.error_after == -1);
  auto second = set.fire(FaultEndpoint::kCompletions, "u", true);
  CHECK_FALSE(second.reject);
  CHECK(second.error_after == 2);
}

TEST_CASE("fault kind names round-trip", "[faults]") {
  for (const char* name : {"rate_limited", "waf_json", "waf_html", "unauthorized",
                           "chat_in_progress", "internal_error", "moderation", "mid_stream_error",
                           "slow_first_byte", "drop_mid_stream", "empty_answer"}) {
    auto k = fault_kind_from_name(name);
    REQUIRE(k);
    CHECK(fault_kind_name(*k) == name);
  }
  CHECK_FALSE(fault_kind_from_name("nope"));
}

TEST_CASE("config patches set knobs and faults", "[config]") {
  MockConfig c;
  FaultSet faults;
  qp::Status st = apply_config_json(R"({"token_delay_ms": 5, "emit_done": true,
      "variant_2026": true, "chunk_bytes": 1, "user_quota": 3,
      "faults": [{"kind": "rate_limited", "scope": "next", "num": 24},
                 {"kind": "drop_mid_stream", "after": 3, "user": "bob", "endpoint": "any"}]})",
                                    &c, &faults);
  REQUIRE(st.ok());
  CHECK(c.token_delay_ms == 5);
  CHECK(c.emit_done);
  CHECK(c.variant_2026);
  CHECK(c.chunk_bytes == 1);
  CHECK(c.user_quota == 3);
  REQUIRE(faults.faults().size() == 2);
  CHECK(faults.faults()[0].remaining == 1);
  CHECK(faults.faults()[0].num == 24);
  CHECK(faults.faults()[1].user == "bob");
  CHECK(faults.faults()[1].after == 3);
  CHECK(faults.faults()[1].endpoint == FaultEndpoint::kAny);

  REQUIRE(
      apply_config_json(R"({"add_faults": [{"kind": "waf_html", "count": 2}]})", &c, &faults).ok());
  CHECK(faults.faults().size() == 3);
  CHECK(faults.faults()[2].remaining == 2);
  REQUIRE(apply_config_json(R"({"clear_faults": true})", &c, &faults).ok());
  CHECK(faults.faults().empty());
  std::string json;
  append_config_json(&json, c);
  CHECK(json.find("\"token_delay_ms\":5") != std::string::npos);
}

TEST_CASE("bad config patches change nothing", "[config]") {
  MockConfig c;
  FaultSet faults;
  faults.add(fault(FaultKind::kWafJson));
  const char* bad[] = {
      R"({"token_delay_ms": -1})",
      R"({"token_delay_ms": 5, "emit_done": "yes"})",
      R"({"token_delay_ms": 5, "nope": 1})",
      R"({"faults": [{"kind": "meteor"}]})",
      R"({"faults": [{"scope": "all"}]})",
      R"({"faults": [{"kind": "waf_json", "scope": "user"}]})",
      R"({"faults": [{"kind": "waf_json", "count": 0}]})",
      R"({"faults": [{"kind": "waf_json", "endpoint": "models"}]})",
      R"([1, 2])",
      "{",
  };
  for (const char* b : bad) {
    INFO(b);
    CHECK_FALSE(apply_config_json(b, &c, &faults).ok());
  }
  CHECK(c.token_delay_ms == 0);
  CHECK_FALSE(c.emit_done);
  CHECK(faults.faults().size() == 1);
}

TEST_CASE("empty_answer shapes the next streams only", "[faults]") {
  FaultSet set;
  set.add(fault(FaultKind::kEmptyAnswer, 1));
  CHECK_FALSE(set.fire(FaultEndpoint::kCompletions, "u", false).empty_answer);  // not a stream
  auto hits = set.fire(FaultEndpoint::kCompletions, "u", true);
  CHECK_FALSE(hits.reject);
  CHECK(hits.empty_answer);
  CHECK_FALSE(set.fire(FaultEndpoint::kCompletions, "u", true).empty_answer);  // count 1
}
