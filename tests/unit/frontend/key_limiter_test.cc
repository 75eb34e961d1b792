// KeyLimiter: rpm and tpm over a sliding minute, concurrency, Retry-After,
// all with an injected clock.
#include "frontend/key_limiter.h"

#include <catch2/catch.hpp>

using qp::frontend::KeyLimiter;
using V = KeyLimiter::Verdict;

namespace {
constexpr uint64_t kT0 = 1'000'000;  // an arbitrary monotonic start (ms)
}

TEST_CASE("rpm: the request over the limit is refused until the window slides") {
  KeyLimiter l;
  KeyLimiter::Limits lim{3, 0, 0};
  for (int i = 0; i < 3; ++i) {
    CHECK(l.admit("k", lim, kT0 + 10'000 * i).admitted());
    l.release("k");
  }
  auto d = l.admit("k", lim, kT0 + 30'000);
  CHECK(d.verdict == V::kRpm);
  CHECK(d.limit == 3);
  CHECK(d.used == 3);
  // The first request (at kT0) leaves the window 60 s later: 30 s from now.
  CHECK(d.retry_after_s == 30);
  CHECK(l.admit("k", lim, kT0 + 59'000).verdict == V::kRpm);
  CHECK(l.admit("k", lim, kT0 + 60'000).admitted());
  CHECK(l.requests_in_window("k", kT0 + 60'000) == 3);
  // Other keys are independent.
  CHECK(l.admit("other", lim, kT0 + 60'000).admitted());
}

TEST_CASE("rpm: a refused request does not count") {
  KeyLimiter l;
  KeyLimiter::Limits lim{1, 0, 0};
  CHECK(l.admit("k", lim, kT0).admitted());
  for (int i = 0; i < 5; ++i) CHECK_FALSE(l.admit("k", lim, kT0 + 1000).admitted());
  CHECK(l.requests_in_window("k", kT0 + 1000) == 1);
  CHECK(l.admit("k", lim, kT0 + 60'000).admitted());
}

TEST_CASE("tpm: tokens of finished requests close the key until they age out") {
  KeyLimiter l;
  KeyLimiter::Limits lim{0, 100, 0};
  CHECK(l.admit("k", lim, kT0).admitted());
  l.add_tokens("k", 60, kT0 + 1000);
  l.release("k");
  CHECK(l.admit("k", lim, kT0 + 2000).admitted());  // 60 < 100
  l.add_tokens("k", 70, kT0 + 20'000);              // 130: over
  l.release("k");
  auto d = l.admit("k", lim, kT0 + 21'000);
  CHECK(d.verdict == V::kTpm);
  CHECK(d.used == 130);
  // Dropping the first 60 tokens (at second kT0+1 s) brings it to 70 < 100.
  CHECK(d.retry_after_s == 40);
  CHECK_FALSE(l.admit("k", lim, kT0 + 60'999).admitted());
  CHECK(l.admit("k", lim, kT0 + 61'000).admitted());
  CHECK(l.tokens_in_window("k", kT0 + 61'000) == 70);
  CHECK(l.tokens_in_window("k", kT0 + 81'000) == 0);
}

TEST_CASE("concurrency: slots come back on release") {
  KeyLimiter l;
  KeyLimiter::Limits lim{0, 0, 2};
  CHECK(l.admit("k", lim, kT0).admitted());
  CHECK(l.admit("k", lim, kT0).admitted());
  auto d = l.admit("k", lim, kT0);
  CHECK(d.verdict == V::kConcurrency);
  CHECK(d.retry_after_s == 1);
  CHECK(l.in_flight("k") == 2);
  l.release("k");
  CHECK(l.admit("k", lim, kT0).admitted());
  l.release("unknown");  // ignored
  l.release("k");
  l.release("k");
  l.release("k");  // never below zero
  CHECK(l.in_flight("k") == 0);
}

TEST_CASE("limits can change between calls; unlimited admits everything") {
  KeyLimiter l;
  for (int i = 0; i < 1000; ++i) CHECK(l.admit("k", {}, kT0).admitted());
  CHECK(l.admit("k", {1000, 0, 0}, kT0).verdict == V::kRpm);
  CHECK(l.admit("k", {2000, 0, 0}, kT0).admitted());
}

TEST_CASE("a long pause clears the window; time never goes backwards") {
  KeyLimiter l;
  KeyLimiter::Limits lim{2, 0, 0};
  CHECK(l.admit("k", lim, kT0).admitted());
  CHECK(l.admit("k", lim, kT0 + 500).admitted());
  CHECK_FALSE(l.admit("k", lim, kT0 - 5000).admitted());  // earlier clock: same window
  CHECK(l.admit("k", lim, kT0 + 10 * 60'000).admitted());
}

TEST_CASE("retain drops revoked keys unless requests are in flight") {
  KeyLimiter l;
  CHECK(l.admit("a", {}, kT0).admitted());
  CHECK(l.admit("b", {}, kT0).admitted());
  l.release("b");
  l.retain([](const std::string&) { return false; });
  CHECK(l.tracked() == 1);
  CHECK(l.in_flight("a") == 1);
}
