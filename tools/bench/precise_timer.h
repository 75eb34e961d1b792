// A one-shot timer with nanosecond deadlines on a libuv loop: a Linux
// timerfd (CLOCK_MONOTONIC, the clock uv_hrtime() reads) watched by a
// uv_poll_t. libuv's own timers have millisecond resolution, too coarse to
// space 1,000 arrivals per second; the timerfd wakes epoll within tens of
// microseconds of the deadline without busy-polling a CPU the measured
// processes need.
#pragma once

#include <cstdint>
#include <functional>

#include <uv.h>

#include "common/status.h"
#include "common/uv/handle.h"

namespace qp::bench {

class PreciseTimer {
 public:
  explicit PreciseTimer(uv_loop_t* loop);
  ~PreciseTimer();
  PreciseTimer(const PreciseTimer&) = delete;
  PreciseTimer& operator=(const PreciseTimer&) = delete;

  Status start(std::function<void()> on_fire);
  // Fires once at uv_hrtime() == deadline_ns (at once if it has passed).
  void arm_at(uint64_t deadline_ns);
  void disarm();
  void close();

 private:
  uv_loop_t* loop_;
  int fd_ = -1;
  uv::Poll poll_;
  std::function<void()> on_fire_;
};

}  // namespace qp::bench
