#include "tools/launcher/backoff.h"

#include <algorithm>

namespace qp::launcher {

Backoff::Backoff(BackoffPolicy policy) : policy_(policy) {
  if (policy_.max_ms < policy_.initial_ms) policy_.max_ms = policy_.initial_ms;
  next_ms_ = policy_.initial_ms;
}

uint64_t Backoff::next_delay_ms(uint64_t uptime_ms) {
  if (uptime_ms >= policy_.reset_after_ms) reset();
  uint64_t delay = next_ms_;
  // Saturating double: max_ms bounds it long before uint64_t overflows, but
  // an initial_ms of 0 must stay 0 rather than loop.
  next_ms_ =
      std::min(policy_.max_ms, next_ms_ > policy_.max_ms / 2 ? policy_.max_ms : next_ms_ * 2);
  return delay;
}

void Backoff::reset() { next_ms_ = policy_.initial_ms; }

}  // namespace qp::launcher
