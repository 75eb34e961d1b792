// The max_tokens stage of the answer pipeline (worker/answer_pipeline.h):
// OpenAI `max_tokens` / `max_completion_tokens` (JobRequest.max_tokens)
// against the upstream's cumulative usage. Pure: no I/O, no allocation.
//
// output_tokens is cumulative and counts reasoning too (as OpenAI's
// max_completion_tokens does). The answer ends with "length" only if more
// text follows once the limit was reached: a model that finishes right at
// the limit stops normally, and the usage reported is the one at the limit.
//
//   after each event that goes on:   limit.observe(events.usage());
//   before forwarding an event's text: if (limit.exceeded(grew)) drop it, end.
#pragma once

#include <cstdint>

#include "worker/qwen_events.h"

namespace qp::worker {

class TokenLimit {
 public:
  // max_tokens <= 0: no limit.
  explicit TokenLimit(int64_t max_tokens = 0) : max_tokens_(max_tokens) {}

  // An event that goes on added text (`grew`): true when the limit was
  // already reached, so that text is past it and the answer ends "length".
  bool exceeded(bool grew) const { return hit_ && grew; }
  // The cumulative usage after an event that goes on.
  void observe(const StreamUsage& usage) {
    if (max_tokens_ > 0 && !hit_ && usage.output_tokens >= max_tokens_) {
      hit_ = true;
      at_limit_ = usage;
    }
  }
  bool reached() const { return hit_; }
  // The usage when the limit was reached (valid once reached()).
  const StreamUsage& usage_at_limit() const { return at_limit_; }
  // A new upstream attempt (usage starts again from zero).
  void reset() {
    hit_ = false;
    at_limit_ = StreamUsage{};
  }

 private:
  int64_t max_tokens_;
  bool hit_ = false;
  StreamUsage at_limit_;
};

}  // namespace qp::worker
