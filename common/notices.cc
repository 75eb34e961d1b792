#include "common/notices.h"

#include <ctime>

namespace qp::notices {
namespace {

bool healthy(std::string_view health) { return health.empty() || health == "ok"; }

// "2026-12-06 03:00 UTC".
std::string utc_minute(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_s);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return std::string(buf, n);
}

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNone:
      return "none";
    case Kind::kUnhealthy:
      return "unhealthy";
    case Kind::kTokenExpiring:
      return "token_expiring";
    case Kind::kTokenExpired:
      return "token_expired";
  }
  return "none";
}

std::string human_duration(int64_t s) {
  if (s < 0) s = 0;
  constexpr int64_t kMin = 60, kHour = 3600, kDay = 24 * 3600;
  auto part = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit; };
  if (s >= kDay) {
    int64_t h = (s % kDay) / kHour;
    return part(s / kDay, "d") + (h > 0 ? " " + part(h, "h") : "");
  }
  if (s >= kHour) {
    int64_t m = (s % kHour) / kMin;
    return part(s / kHour, "h") + (m > 0 ? " " + part(m, "min") : "");
  }
  if (s >= kMin) return part(s / kMin, "min");
  return part(s, "s");
}

Kind classify(const AccountState& state, int64_t now_unix_s) {
  const int64_t exp = state.token_expires_unix_s;
  if (exp > 0 && exp <= now_unix_s) return Kind::kTokenExpired;
  if (!healthy(state.health)) return Kind::kUnhealthy;
  if (exp > 0 && exp - now_unix_s < kExpiringWithinS) return Kind::kTokenExpiring;
  return Kind::kNone;
}

Notice evaluate(const AccountState& state, int64_t now_unix_s) {
  Notice n;
  const int64_t exp = state.token_expires_unix_s;
  if (exp > 0) n.expires_in_s = exp - now_unix_s;
  n.kind = classify(state, now_unix_s);
  if (n.kind == Kind::kNone) return n;
  const std::string who = "Qwen account " + std::string(state.account);
  const std::string fix = "; import fresh credentials (qwenproxy account import " +
                          std::string(state.account) + " --force, or the console)";
  if (n.kind == Kind::kTokenExpired) {
    n.message = who + ": its session token expired " + human_duration(now_unix_s - exp) + " ago (" +
                utc_minute(exp) + ")" + fix + ".";
  } else if (n.kind == Kind::kUnhealthy) {
    n.message = who + " is unhealthy (" + std::string(state.health) + ")";
    if (!state.detail.empty()) n.message += ": " + std::string(state.detail);
    n.message += ".";
  } else {
    n.message = who + ": its session token expires in " + human_duration(exp - now_unix_s) + " (" +
                utc_minute(exp) + ")" + fix + ".";
  }
  return n;
}

Notice Tracker::update(const AccountState& state, int64_t now_unix_s) {
  // Called on every heartbeat: the sentence is only built on a transition.
  const Kind kind = classify(state, now_unix_s);
  const std::string_view health = kind == Kind::kUnhealthy ? state.health : std::string_view();
  auto it = last_.find(std::string(state.account));
  if (it == last_.end()) it = last_.emplace(std::string(state.account), Last{}).first;
  Last& last = it->second;
  if (kind == last.kind && health == last.health) return Notice{};
  last.kind = kind;
  last.health = std::string(health);
  if (kind == Kind::kNone) return Notice{};  // recovered: remembered, not reported
  return evaluate(state, now_unix_s);
}

void Tracker::forget(std::string_view account) { last_.erase(std::string(account)); }

}  // namespace qp::notices
