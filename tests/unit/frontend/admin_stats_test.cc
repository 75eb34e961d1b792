#include <catch2/catch.hpp>

#include "frontend/admin/stats.h"

using namespace qp::frontend::admin;

namespace {
ErrorEntry entry(int64_t at, std::string id) {
  ErrorEntry e;
  e.at_unix_ms = at;
  e.request_id = std::move(id);
  return e;
}
constexpr int64_t kMin = 60'000;
constexpr int64_t kT0 = 1'760'000'000'000 / kMin * kMin;  // a minute boundary
}  // namespace

TEST_CASE("latency histogram percentiles", "[admin]") {
  LatencyHistogram h;
  CHECK(h.percentile(0.5) == 0);
  for (int i = 0; i < 99; ++i) h.add(100);
  h.add(10'000);
  CHECK(h.count() == 100);
  double p50 = h.percentile(0.5);
  CHECK(p50 >= 100);
  CHECK(p50 < 100 * 1.2);  // within one bin (2^(1/4))
  double p99 = h.percentile(0.99);
  CHECK(p99 >= 100);
  CHECK(p99 < 120);
  CHECK(h.percentile(1.0) >= 10'000);
  CHECK(h.percentile(1.0) < 12'000);
  h.add(0);
  h.add(1);
  h.add(uint64_t{1} << 40);  // clamps into the last bin
  CHECK(h.count() == 103);
}

TEST_CASE("hour series: one-minute buckets over the last hour", "[admin]") {
  HourSeries s;
  s.add(kT0 + 1000, false, 10, 20, 100);
  s.add(kT0 + 2000, true, 1, 0, 300);
  s.add(kT0 + kMin + 5, false, 5, 5, -1);
  auto pts = s.points(kT0 + kMin + 10);
  REQUIRE(pts.size() == 60);
  CHECK(pts.back().t == (kT0 + kMin) / 1000);
  CHECK(pts.back().requests == 1);
  CHECK(pts.back().p50_ms == 0);  // no latency recorded
  const MinutePoint& prev = pts[58];
  CHECK(prev.t == kT0 / 1000);
  CHECK(prev.requests == 2);
  CHECK(prev.errors == 1);
  CHECK(prev.tokens_in == 11);
  CHECK(prev.tokens_out == 20);
  CHECK(prev.p50_ms >= 100);
  CHECK(prev.p99_ms >= 300);
  CHECK(pts.front().requests == 0);
  for (size_t i = 1; i < pts.size(); ++i) CHECK(pts[i].t == pts[i - 1].t + 60);

  HourTotals t = s.totals(kT0 + kMin + 10);
  CHECK(t.requests == 3);
  CHECK(t.errors == 1);
  CHECK(t.tokens_in == 16);
  CHECK(t.tokens_out == 25);

  // 59 minutes later the first minute is still in; at 60 it is gone.
  CHECK(s.totals(kT0 + 59 * kMin).requests == 3);
  CHECK(s.totals(kT0 + 60 * kMin).requests == 1);
  CHECK(s.totals(kT0 + 61 * kMin).requests == 0);
  // A bucket slot reused an hour later starts from zero.
  s.add(kT0 + 60 * kMin, false, 0, 0, 1);
  CHECK(s.totals(kT0 + 60 * kMin).requests == 2);
  // Negative tokens are not counted; a time before the slot's hour is dropped.
  s.add(kT0 + 60 * kMin, false, -5, -5, 1);
  s.add(kT0, false, 1, 1, 1);
  HourTotals u = s.totals(kT0 + 60 * kMin);
  CHECK(u.requests == 3);
  CHECK(u.tokens_in == 5);  // minute 1 only: -5 counts nothing, the stale add was dropped
}

TEST_CASE("error ring keeps the newest, newest first", "[admin]") {
  ErrorRing r(3);
  CHECK(r.size() == 0);
  for (int i = 1; i <= 2; ++i) r.push(entry(i, "r" + std::to_string(i)));
  REQUIRE(r.size() == 2);
  CHECK(r.newest(0).request_id == "r2");
  CHECK(r.newest(1).request_id == "r1");
  for (int i = 3; i <= 7; ++i) r.push(entry(i, "r" + std::to_string(i)));
  REQUIRE(r.size() == 3);
  CHECK(r.newest(0).request_id == "r7");
  CHECK(r.newest(1).request_id == "r6");
  CHECK(r.newest(2).request_id == "r5");
  ErrorRing none(0);
  none.push(ErrorEntry{});
  CHECK(none.size() == 0);
}
