#include "tools/launcher/backoff.h"

#include <catch2/catch.hpp>

namespace qp::launcher {
namespace {

TEST_CASE("backoff doubles from 100 ms up to the 10 s cap", "[launcher][backoff]") {
  Backoff b;
  const uint64_t expected[] = {100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000};
  for (uint64_t want : expected) CHECK(b.next_delay_ms(50) == want);
}

TEST_CASE("backoff resets after the child stayed up 30 s", "[launcher][backoff]") {
  Backoff b;
  for (int i = 0; i < 6; ++i) (void)b.next_delay_ms(0);
  REQUIRE(b.peek_ms() == 6400);
  SECTION("exactly 30 s of uptime resets") { CHECK(b.next_delay_ms(30'000) == 100); }
  SECTION("just under 30 s does not") { CHECK(b.next_delay_ms(29'999) == 6400); }
  SECTION("after a reset the sequence doubles again") {
    CHECK(b.next_delay_ms(60'000) == 100);
    CHECK(b.next_delay_ms(10) == 200);
  }
}

TEST_CASE("backoff reset() starts over", "[launcher][backoff]") {
  Backoff b;
  (void)b.next_delay_ms(0);
  (void)b.next_delay_ms(0);
  b.reset();
  CHECK(b.next_delay_ms(0) == 100);
}

TEST_CASE("backoff honours a custom policy", "[launcher][backoff]") {
  Backoff b(BackoffPolicy{10, 35, 1000});
  CHECK(b.next_delay_ms(0) == 10);
  CHECK(b.next_delay_ms(0) == 20);
  CHECK(b.next_delay_ms(0) == 35);
  CHECK(b.next_delay_ms(0) == 35);
  CHECK(b.next_delay_ms(1000) == 10);
}

TEST_CASE("backoff with a zero initial delay stays zero", "[launcher][backoff]") {
  Backoff b(BackoffPolicy{0, 100, 1000});
  CHECK(b.next_delay_ms(0) == 0);
  CHECK(b.next_delay_ms(0) == 0);
}

TEST_CASE("backoff cap below the initial delay is raised to it", "[launcher][backoff]") {
  Backoff b(BackoffPolicy{500, 100, 1000});
  CHECK(b.next_delay_ms(0) == 500);
  CHECK(b.next_delay_ms(0) == 500);
}

}  // namespace
}  // namespace qp::launcher
