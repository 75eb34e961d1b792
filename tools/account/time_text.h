// Human-readable times for the account commands. Pure.
#pragma once

#include <cstdint>
#include <string>

namespace qp::account_tool {

// "6 d 23 h", "5 h 12 min", "42 min", "30 s" (the two largest units; `seconds` >= 0).
std::string duration_text(int64_t seconds);

// "2025-11-02 10:00 UTC".
std::string utc_text(int64_t unix_s);

// "expires 2025-11-02 10:00 UTC (in 6 d 23 h)" or
// "EXPIRED 2025-11-02 10:00 UTC (3 h 2 min ago)"; "no expiry known" for 0.
std::string expiry_text(int64_t expires_unix_s, int64_t now_unix_s);

}  // namespace qp::account_tool
