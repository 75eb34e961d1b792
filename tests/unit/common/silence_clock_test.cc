// SilenceClock (common/uv/silence_clock.h): a peer is silent only for what
// the checking loop has read; a busy or stalled loop never makes a live peer
// dead.
#include "common/uv/silence_clock.h"

#include <catch2/catch.hpp>

using qp::uv::SilenceClock;
using qp::uv::silent_for;

namespace {
constexpr uint64_t kInterval = 1000;
constexpr uint64_t kWindow = 3 * kInterval;  // kLiveness intervals
}  // namespace

TEST_CASE("silence: a quiet peer is silent after the window, with a loop on time",
          "[uv][liveness]") {
  SilenceClock clock(kInterval);
  const uint64_t last_heard = 1000;
  for (uint64_t now = 1000; now <= 4000; now += kInterval) {
    auto up_to = clock.tick(now, /*unread=*/false, /*caught_up_ms=*/now - 10);
    REQUIRE(up_to);
    CHECK(*up_to == now);
    CHECK_FALSE(silent_for(last_heard, *up_to, kWindow));
  }
  auto up_to = clock.tick(5000, false, 4990);
  REQUIRE(up_to);
  CHECK(silent_for(last_heard, *up_to, kWindow));
  SECTION("a timer a little late is not a stall") {
    auto late = clock.tick(6400, false, 6400);
    REQUIRE(late);
    CHECK(clock.last_stall_ms() == 0);
  }
}

TEST_CASE("silence: unread messages in our own socket are not silence", "[uv][liveness]") {
  SilenceClock clock(kInterval);
  // The loop is busy with thousands of streams: it last drained the socket
  // empty at 500 and has unread messages since.
  for (uint64_t now = 1000; now <= 10'000; now += kInterval) {
    auto up_to = clock.tick(now, /*unread=*/true, /*caught_up_ms=*/500);
    REQUIRE(up_to);
    CHECK(*up_to == 500);
    CHECK_FALSE(silent_for(/*last_heard=*/400, *up_to, kWindow));
  }
  SECTION("but a peer silent since before the last full drain is dead") {
    auto up_to = clock.tick(11'000, /*unread=*/true, /*caught_up_ms=*/10'900);
    REQUIRE(up_to);
    CHECK(silent_for(/*last_heard=*/400, *up_to, kWindow));
  }
  SECTION("a socket never drained empty proves nobody silent") {
    SilenceClock fresh(kInterval);
    auto up_to = fresh.tick(60'000, /*unread=*/true, /*caught_up_ms=*/0);
    REQUIRE(up_to);
    CHECK_FALSE(silent_for(/*last_heard=*/0, *up_to, kWindow));
  }
}

TEST_CASE("silence: a 5 s stall of the checking loop judges nobody on its first tick",
          "[uv][liveness]") {
  SilenceClock clock(kInterval);
  REQUIRE(clock.tick(1000, false, 1000));
  REQUIRE(clock.tick(2000, false, 2000));
  // The peer was last heard at 2000; the loop then stalls for 5 s. Its
  // heartbeats since are not even in our queue yet (ZeroMQ's I/O thread
  // stalled with us): the socket looks empty.
  const uint64_t last_heard = 2000;
  auto after_stall = clock.tick(7000, /*unread=*/false, /*caught_up_ms=*/2000);
  CHECK_FALSE(after_stall);
  CHECK(clock.last_stall_ms() == 5000);
  SECTION("the poll phase then reads the peer's heartbeats: alive") {
    const uint64_t heard_again = 7000;
    auto next = clock.tick(8000, false, 8000);
    REQUIRE(next);
    CHECK(clock.last_stall_ms() == 0);
    CHECK_FALSE(silent_for(heard_again, *next, kWindow));
  }
  SECTION("a peer that really died is found one interval later") {
    auto next = clock.tick(8000, false, 8000);
    REQUIRE(next);
    CHECK(silent_for(last_heard, *next, kWindow));
  }
}

TEST_CASE("silence: silent_for never underflows", "[uv][liveness]") {
  CHECK_FALSE(silent_for(5000, 1000, kWindow));  // heard after the proven instant
  CHECK_FALSE(silent_for(1000, 4000, kWindow));  // exactly the window
  CHECK(silent_for(1000, 4001, kWindow));
}

TEST_CASE("silence: short intervals tolerate kMinStallMs of lateness", "[uv][liveness]") {
  SilenceClock clock(20);
  REQUIRE(clock.tick(100, false, 100));
  CHECK(clock.tick(100 + 20 + SilenceClock::kMinStallMs, false, 0));  // late, not stalled
  CHECK_FALSE(clock.tick(100 + 20 + SilenceClock::kMinStallMs + 21 + 2 * SilenceClock::kMinStallMs,
                         false, 0));
}

TEST_CASE("silence: after reset() a long gap between ticks is no stall", "[uv][liveness]") {
  SilenceClock clock(kInterval);
  REQUIRE(clock.tick(1000, false, 1000));
  clock.reset();  // e.g. reconnecting: the checker skipped its ticks
  auto up_to = clock.tick(30'000, false, 30'000);
  REQUIRE(up_to);
  CHECK(*up_to == 30'000);
}
