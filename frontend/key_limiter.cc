#include "frontend/key_limiter.h"

namespace qp::frontend {

void KeyLimiter::Window::advance(uint64_t now_s) {
  if (now_s <= head_s_) return;
  if (now_s - head_s_ >= kWindowSeconds) {
    buckets_.fill(0);
    sum_ = 0;
  } else {
    for (uint64_t s = head_s_ + 1; s <= now_s; ++s) {
      uint64_t& b = buckets_[s % kWindowSeconds];
      sum_ -= b;
      b = 0;
    }
  }
  head_s_ = now_s;
}

void KeyLimiter::Window::add(uint64_t now_s, uint64_t n) {
  advance(now_s);
  buckets_[head_s_ % kWindowSeconds] += n;
  sum_ += n;
}

int64_t KeyLimiter::Window::seconds_until_below(uint64_t limit, uint64_t now_ms) const {
  // The bucket of second s leaves the window at (s + 60) s. Walk from the
  // oldest bucket until what is left is below the limit.
  uint64_t left = sum_;
  uint64_t oldest = head_s_ + 1 >= kWindowSeconds ? head_s_ + 1 - kWindowSeconds : 0;
  for (uint64_t s = oldest; s <= head_s_; ++s) {
    if (left < limit) break;
    left -= buckets_[s % kWindowSeconds];
    if (left < limit) {
      uint64_t leaves_ms = (s + kWindowSeconds) * 1000;
      uint64_t wait_ms = leaves_ms > now_ms ? leaves_ms - now_ms : 0;
      int64_t secs = static_cast<int64_t>((wait_ms + 999) / 1000);
      return secs < 1 ? 1 : secs;
    }
  }
  return 1;
}

KeyLimiter::Decision KeyLimiter::admit(const std::string& id, const Limits& limits,
                                       uint64_t now_ms) {
  State& st = states_[id];
  uint64_t now_s = now_ms / 1000;
  st.requests.advance(now_s);
  st.tokens.advance(now_s);
  Decision d;
  auto over = [&](const Window& w, uint64_t limit, Verdict v) {
    if (limit == 0 || w.sum() < limit) return false;
    d.verdict = v;
    d.limit = limit;
    d.used = w.sum();
    d.retry_after_s = w.seconds_until_below(limit, now_ms);
    return true;
  };
  if (over(st.requests, limits.rpm, Verdict::kRpm) || over(st.tokens, limits.tpm, Verdict::kTpm))
    return d;
  if (limits.concurrency > 0 && st.in_flight >= limits.concurrency) {
    d.verdict = Verdict::kConcurrency;
    d.limit = limits.concurrency;
    d.used = st.in_flight;
    d.retry_after_s = 1;
    return d;
  }
  st.requests.add(now_s, 1);
  ++st.in_flight;
  return d;
}

void KeyLimiter::release(const std::string& id) {
  auto it = states_.find(id);
  if (it == states_.end() || it->second.in_flight == 0) return;
  --it->second.in_flight;
}

void KeyLimiter::add_tokens(const std::string& id, uint64_t tokens, uint64_t now_ms) {
  if (tokens == 0) return;
  states_[id].tokens.add(now_ms / 1000, tokens);
}

uint64_t KeyLimiter::in_flight(const std::string& id) const {
  auto it = states_.find(id);
  return it == states_.end() ? 0 : it->second.in_flight;
}

uint64_t KeyLimiter::requests_in_window(const std::string& id, uint64_t now_ms) {
  auto it = states_.find(id);
  if (it == states_.end()) return 0;
  it->second.requests.advance(now_ms / 1000);
  return it->second.requests.sum();
}

uint64_t KeyLimiter::tokens_in_window(const std::string& id, uint64_t now_ms) {
  auto it = states_.find(id);
  if (it == states_.end()) return 0;
  it->second.tokens.advance(now_ms / 1000);
  return it->second.tokens.sum();
}

void KeyLimiter::retain(const std::function<bool(const std::string&)>& keep) {
  std::erase_if(states_,
                [&](const auto& kv) { return kv.second.in_flight == 0 && !keep(kv.first); });
}

}  // namespace qp::frontend
