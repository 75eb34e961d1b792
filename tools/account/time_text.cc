#include "tools/account/time_text.h"

#include <ctime>

namespace qp::account_tool {

std::string duration_text(int64_t s) {
  if (s < 0) s = -s;
  int64_t d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60;
  if (d > 0) return std::to_string(d) + " d " + std::to_string(h) + " h";
  if (h > 0) return std::to_string(h) + " h " + std::to_string(m) + " min";
  if (m > 0) return std::to_string(m) + " min";
  return std::to_string(s) + " s";
}

std::string utc_text(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string expiry_text(int64_t expires_unix_s, int64_t now_unix_s) {
  if (expires_unix_s <= 0) return "no expiry known";
  int64_t left = expires_unix_s - now_unix_s;
  if (left <= 0)
    return "EXPIRED " + utc_text(expires_unix_s) + " (" + duration_text(-left) + " ago)";
  return "expires " + utc_text(expires_unix_s) + " (in " + duration_text(left) + ")";
}

}  // namespace qp::account_tool
