// How the broker reads the account health that workers report
// (protocol::kHealth*), and the wording used when it explains to a client why
// no account can serve a request. Pure functions; no I/O.
//
// Times are wall-clock Unix milliseconds, because health_until_unix_ms comes
// from another process.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qp::broker {

enum class HealthClass {
  kOk,           // may serve chat jobs
  kRateLimited,  // rate_limited and the limit has not lifted yet (or its end is unknown)
  kTransient,    // expected to recover soon on its own (upstream_unreachable, unknown values)
  kPermanent,    // needs a human: needs_verification, credentials_invalid
};

// A rate limit whose end (until_unix_ms > 0) has passed counts as kOk: the
// worker's next heartbeat will confirm it, and until then trying is better
// than refusing.
HealthClass classify_health(std::string_view health, int64_t until_unix_ms, int64_t now_unix_ms);

// List-models jobs only need an account that can log in at all.
bool can_list_models(std::string_view health);

// One clause naming the account and its problem, e.g.
// "account alice needs human verification",
// "account bob's credentials were rejected",
// "account carol is rate limited for 42 s more". Safe to show to clients.
std::string describe_health(std::string_view account, std::string_view health,
                            int64_t until_unix_ms, int64_t now_unix_ms);

// Whole seconds from now until `until_unix_ms`, rounded up, at least 1.
int64_t seconds_until(int64_t until_unix_ms, int64_t now_unix_ms);

}  // namespace qp::broker
