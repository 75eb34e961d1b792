// EndOfTurn (common/uv/end_of_turn.h): the callback runs once, at the end of
// the turn it was armed in, even when armed outside the poll phase.
#include "common/uv/end_of_turn.h"

#include <catch2/catch.hpp>

namespace {

struct Probe {
  qp::uv::EndOfTurn turn;
  uv_loop_t* loop = nullptr;
  int runs = 0;
  bool late = false;  // the long timer fired
};

void count(void* p) { ++static_cast<Probe*>(p)->runs; }

}  // namespace

TEST_CASE("EndOfTurn armed in a timer runs in that turn, without waiting in poll", "[uv]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    Probe probe;
    probe.loop = &loop;
    qp::uv::Timer arm_now, keep_alive;
    uv_timer_init(&loop, arm_now.get());
    uv_timer_init(&loop, keep_alive.get());
    arm_now.get()->data = &probe;
    keep_alive.get()->data = &probe;
    // Keeps the loop alive; if the armed turn blocked in poll, this would be
    // due (and run by UV_RUN_ONCE) before the turn ended.
    uv_timer_start(
        keep_alive.get(), [](uv_timer_t* t) { static_cast<Probe*>(t->data)->late = true; }, 30'000,
        0);
    uv_timer_start(
        arm_now.get(),
        [](uv_timer_t* t) {
          auto* p = static_cast<Probe*>(t->data);
          p->turn.arm(p->loop, count, p);
          p->turn.arm(p->loop, count, p);  // armed twice in one turn: runs once
        },
        0, 0);
    uv_run(&loop, UV_RUN_ONCE);
    CHECK(probe.runs == 1);
    CHECK_FALSE(probe.late);
    CHECK_FALSE(probe.turn.armed());

    SECTION("it can be armed again, and disarmed") {
      probe.turn.arm(&loop, count, &probe);
      probe.turn.disarm();
      uv_run(&loop, UV_RUN_NOWAIT);
      CHECK(probe.runs == 1);
      probe.turn.arm(&loop, count, &probe);
      uv_run(&loop, UV_RUN_NOWAIT);
      CHECK(probe.runs == 2);
    }
    uv_timer_stop(keep_alive.get());
  }
  CHECK(qp::uv::close_loop(&loop) == 0);
}
