#include "common/uv/silence_clock.h"

#include <algorithm>

namespace qp::uv {

std::optional<uint64_t> SilenceClock::tick(uint64_t now_ms, bool unread, uint64_t caught_up_ms) {
  const std::optional<uint64_t> prev = prev_tick_ms_;
  prev_tick_ms_ = now_ms;
  last_stall_ms_ = 0;
  const uint64_t late = std::max(interval_ms_ / 2, kMinStallMs);
  if (prev && now_ms > *prev && now_ms - *prev > interval_ms_ + late) {
    // The loop did not run between the ticks: what the peers sent meanwhile
    // may not even be in our queue yet. Judge at the next tick.
    last_stall_ms_ = now_ms - *prev;
    return std::nullopt;
  }
  // Nothing unread: everything sent so far has been read. Otherwise only
  // what was sent before the socket was last drained empty.
  if (!unread) return now_ms;
  return caught_up_ms < now_ms ? caught_up_ms : now_ms;
}

}  // namespace qp::uv
