#include "broker/health.h"

#include "common/protocol/messages.h"

namespace qp::broker {

HealthClass classify_health(std::string_view health, int64_t until_unix_ms, int64_t now_unix_ms) {
  if (health == protocol::kHealthOk) return HealthClass::kOk;
  if (health == protocol::kHealthRateLimited) {
    if (until_unix_ms > 0 && until_unix_ms <= now_unix_ms) return HealthClass::kOk;
    return HealthClass::kRateLimited;
  }
  if (health == protocol::kHealthNeedsVerification ||
      health == protocol::kHealthCredentialsInvalid) {
    return HealthClass::kPermanent;
  }
  // upstream_unreachable, and values a newer worker may send that we do not
  // know yet: assume they pass.
  return HealthClass::kTransient;
}

bool can_list_models(std::string_view health) {
  return health != protocol::kHealthCredentialsInvalid;
}

int64_t seconds_until(int64_t until_unix_ms, int64_t now_unix_ms) {
  int64_t ms = until_unix_ms - now_unix_ms;
  if (ms <= 0) return 1;
  int64_t s = (ms + 999) / 1000;
  return s < 1 ? 1 : s;
}

std::string describe_health(std::string_view account, std::string_view health,
                            int64_t until_unix_ms, int64_t now_unix_ms) {
  std::string out = "account ";
  out += account.empty() ? std::string_view("(unnamed)") : account;
  if (health == protocol::kHealthOk) {
    out += " is available";
  } else if (health == protocol::kHealthRateLimited) {
    if (until_unix_ms > now_unix_ms) {
      out += " is rate limited for " + std::to_string(seconds_until(until_unix_ms, now_unix_ms)) +
             " s more";
    } else if (until_unix_ms > 0) {
      out += " was rate limited until just now";
    } else {
      out += " is rate limited";
    }
  } else if (health == protocol::kHealthNeedsVerification) {
    out += " needs human verification";
  } else if (health == protocol::kHealthCredentialsInvalid) {
    out += "'s credentials were rejected";
  } else if (health == protocol::kHealthUnreachable) {
    out += " cannot reach the Qwen service";
  } else {
    out += " reports health '";
    // Bounded and printable: the value comes from another process.
    for (char c : health.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    out += "'";
  }
  return out;
}

}  // namespace qp::broker
