// Account notices (docs/architecture.md, "Operator console"): what an operator
// must be told about an account, as a pure function of its state and the time,
// and a tracker that turns a stream of states into transitions so a notice is
// sent once, not on every heartbeat.
//
// Kinds, most urgent first (one account has at most one notice):
//   token_expired   the session token's `exp` is in the past (or now);
//   unhealthy       health is anything but "ok" (rate_limited,
//                   credentials_invalid, needs_verification,
//                   upstream_unreachable), with the health and its detail;
//   token_expiring  the token expires within kExpiringWithinS (24 h).
// An unknown expiry (token_expires_unix_s == 0) never yields a token notice.
//
// The message is one human sentence, safe to show or post anywhere: it
// holds the account name, health, detail (already public in /health) and
// times, never a credential.
//
// Used by the worker (log + webhook, worker/notice_sender.h) and by the
// admin API for the dashboard banner. Pure; no I/O, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace qp::notices {

inline constexpr int64_t kExpiringWithinS = 24 * 3600;

enum class Kind : uint8_t { kNone, kUnhealthy, kTokenExpiring, kTokenExpired };

// "none", "unhealthy", "token_expiring", "token_expired".
std::string_view kind_name(Kind kind);

struct AccountState {
  std::string_view account;
  std::string_view health;           // protocol::kHealth*; empty counts as "ok"
  std::string_view detail;           // why not ok (WorkerStatus::detail); may be empty
  int64_t token_expires_unix_s = 0;  // 0 = unknown
};

struct Notice {
  Kind kind = Kind::kNone;
  std::string message;       // empty for kNone
  int64_t expires_in_s = 0;  // token_expires_unix_s - now (negative once expired); 0 if unknown
};

// The kind alone (no allocation).
Kind classify(const AccountState& state, int64_t now_unix_s);
// The notice for `state` at `now_unix_s`.
Notice evaluate(const AccountState& state, int64_t now_unix_s);

// "5 h 3 min", "42 min", "2 d 1 h", "30 s" for a non-negative duration.
std::string human_duration(int64_t seconds);

// Remembers the last notice kind (and, for unhealthy, the health) per
// account. update() returns the notice when it differs from the last one
// reported for that account, else a kNone notice. A return to "nothing to
// say" is not a notice, but it is remembered: the same problem coming back
// later is reported again.
class Tracker {
 public:
  Notice update(const AccountState& state, int64_t now_unix_s);
  // Forgets an account (its worker left); nothing is reported.
  void forget(std::string_view account);

 private:
  struct Last {
    Kind kind = Kind::kNone;
    std::string health;
  };
  std::unordered_map<std::string, Last> last_;
};

}  // namespace qp::notices
