// Restart delay policy for supervised children: exponential backoff from
// `initial_ms`, doubling up to `max_ms`; a child that stayed up at least
// `reset_after_ms` before dying starts again from `initial_ms`.
//
// Pure policy: no clock, no I/O. The supervisor passes in how long the child
// ran. One Backoff per child.
#pragma once

#include <cstdint>

namespace qp::launcher {

struct BackoffPolicy {
  uint64_t initial_ms = 100;
  uint64_t max_ms = 10'000;
  uint64_t reset_after_ms = 30'000;
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {});

  // The child just died after running `uptime_ms`: returns how long to wait
  // before starting it again, and advances the sequence.
  uint64_t next_delay_ms(uint64_t uptime_ms);

  // Starts the sequence again from `initial_ms`.
  void reset();

  // The delay the next quick death would get (for tests and logs).
  uint64_t peek_ms() const { return next_ms_; }

 private:
  BackoffPolicy policy_;
  uint64_t next_ms_;
};

}  // namespace qp::launcher
