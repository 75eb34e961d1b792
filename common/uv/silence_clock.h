// Liveness judged by a loop that may itself have been busy or stalled.
//
// A peer is dead after `window_ms` without a message from it. The naive
// check, `now - last_heard > window`, is fooled by the checking loop:
//  - busy: the peer's messages sit unread in our own socket (thousands of
//    streams to serve, a bounded drain that has not reached them yet);
//  - stalled: the loop did not run for a while (one very long turn, swap,
//    SIGSTOP, a debugger). The timer then fires late, in the timers phase,
//    before the poll phase has read what arrived meanwhile — possibly before
//    ZeroMQ's I/O thread has even moved it from the kernel to our queue.
// A stalled loop must never declare a peer dead merely because it did not
// read. SilenceClock gives the checker one instant, `heard_up_to`: every
// message the peer sent before it has been read. A peer is silent when
// `heard_up_to - last_heard > window`; a tick right after a stall judges
// nobody (the next tick, one interval later, does, after a poll phase).
//
// Pure: times in, a decision out; no libuv, no zmq. The caller passes a
// fresh monotonic `now_ms` (uv_update_time() then uv_now()), whether its
// socket has unread messages, and when the socket was last seen empty
// (zmqx::UvSocket::caught_up_ms()).
#pragma once

#include <cstdint>
#include <optional>

namespace qp::uv {

class SilenceClock {
 public:
  // A timer this much later than due (or half an interval, if more) means
  // the loop stalled; less is the ordinary lateness of a busy loop.
  static constexpr uint64_t kMinStallMs = 200;

  // `interval_ms`: how often tick() is called (the heartbeat interval). A gap
  // between ticks above interval + max(interval / 2, kMinStallMs) is a stall.
  explicit SilenceClock(uint64_t interval_ms) : interval_ms_(interval_ms) {}

  // One check. Returns `heard_up_to`, or nullopt when no peer may be judged
  // now (the loop stalled since the previous tick).
  //  unread: the socket has messages waiting (ZMQ_EVENTS has POLLIN);
  //  caught_up_ms: when a drain of the socket last found it empty (0: never).
  std::optional<uint64_t> tick(uint64_t now_ms, bool unread, uint64_t caught_up_ms);

  // Forgets the previous tick: the next one cannot find a stall (the checker
  // skipped ticks on purpose, e.g. while it had no socket).
  void reset() { prev_tick_ms_.reset(); }

  // The length of the stall the last tick found (0: none).
  uint64_t last_stall_ms() const { return last_stall_ms_; }

 private:
  uint64_t interval_ms_;
  std::optional<uint64_t> prev_tick_ms_;
  uint64_t last_stall_ms_ = 0;
};

// True if a peer last heard at `last_heard_ms` has been silent for more than
// `window_ms` as of `heard_up_to_ms` (SilenceClock::tick()).
constexpr bool silent_for(uint64_t last_heard_ms, uint64_t heard_up_to_ms, uint64_t window_ms) {
  return heard_up_to_ms > last_heard_ms && heard_up_to_ms - last_heard_ms > window_ms;
}

}  // namespace qp::uv
