// Per-client-key limits: requests per minute, tokens per minute and requests
// in flight. Pure policy: no I/O, time is passed in (monotonic milliseconds).
//
// The minute is a sliding window of the last 60 one-second buckets. A request
// is admitted while the key's requests in the window are below `rpm`, its
// tokens in the window below `tpm`, and its requests in flight below
// `concurrency` (0 = no limit). Tokens are only known once a request is done
// (add_tokens), so the request that crosses `tpm` completes and the next ones
// wait. A refused request counts for nothing. Retry-After is the time until
// enough of the window has slid out to admit one more request (1 s for
// concurrency, which ends when some request ends).
//
// State is kept per key id and survives changes of the limits (a reload of
// the keys file). Thread: one thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

namespace qp::frontend {

class KeyLimiter {
 public:
  static constexpr uint64_t kWindowSeconds = 60;

  struct Limits {
    uint64_t rpm = 0;  // 0 = unlimited
    uint64_t tpm = 0;
    uint64_t concurrency = 0;
  };
  enum class Verdict { kAdmitted, kRpm, kTpm, kConcurrency };
  struct Decision {
    Verdict verdict = Verdict::kAdmitted;
    uint64_t limit = 0;         // the limit that refused, else 0
    uint64_t used = 0;          // its current use
    int64_t retry_after_s = 0;  // > 0 when refused
    bool admitted() const { return verdict == Verdict::kAdmitted; }
  };

  // Admits a request of key `id` (counts it and takes a concurrency slot,
  // which release() gives back) or says which limit refuses it.
  Decision admit(const std::string& id, const Limits& limits, uint64_t now_ms);
  // Gives back a slot taken by admit(). Unknown ids are ignored.
  void release(const std::string& id);
  // Counts `tokens` used by key `id` at `now_ms` (a finished request).
  void add_tokens(const std::string& id, uint64_t tokens, uint64_t now_ms);

  uint64_t in_flight(const std::string& id) const;
  // Requests and tokens of `id` in the window ending at `now_ms`.
  uint64_t requests_in_window(const std::string& id, uint64_t now_ms);
  uint64_t tokens_in_window(const std::string& id, uint64_t now_ms);
  // Drops the state of keys for which keep(id) is false and that have
  // nothing in flight (revoked keys).
  void retain(const std::function<bool(const std::string&)>& keep);
  size_t tracked() const { return states_.size(); }

 private:
  class Window {
   public:
    // Moves the window so that it ends at second `now_s` (never backwards).
    void advance(uint64_t now_s);
    void add(uint64_t now_s, uint64_t n);
    uint64_t sum() const { return sum_; }
    // Seconds (>= 1) until the sum drops below `limit`, at `now_ms`.
    int64_t seconds_until_below(uint64_t limit, uint64_t now_ms) const;

   private:
    std::array<uint64_t, kWindowSeconds> buckets_{};
    uint64_t head_s_ = 0;  // the second of the newest bucket
    uint64_t sum_ = 0;
  };
  struct State {
    Window requests;
    Window tokens;
    uint64_t in_flight = 0;
  };

  std::unordered_map<std::string, State> states_;
};

}  // namespace qp::frontend
