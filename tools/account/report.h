// What `qwenproxy account list` and `qwenproxy account status` print. Pure:
// the commands (commands.h) gather the data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/accounts/account_loader.h"
#include "common/status.h"

namespace qp::account_tool {

// Rows of text as aligned columns (two spaces apart; the last column is not padded).
std::string format_table(const std::vector<std::vector<std::string>>& rows);

// One account as the frontend's /health reports it.
struct HealthAccount {
  std::string name;
  std::string health;
  uint64_t capacity = 0;
  uint64_t in_flight = 0;
  std::optional<int64_t> token_expires_in_s;
  // Any other scalar field (e.g. a reason or a retry time), as key=value.
  std::vector<std::pair<std::string, std::string>> extra;
};

struct HealthReport {
  std::string status;  // ok, degraded, unavailable
  bool draining = false;
  bool broker_connected = false;
  uint64_t workers = 0;
  uint64_t queued = 0;
  uint64_t in_flight = 0;
  std::vector<HealthAccount> accounts;
};

// Parses the body of GET /health (frontend_app.cc). Unknown fields are
// ignored at the top level and kept as `extra` in accounts.
Result<HealthReport> parse_health(std::string_view json);

// `account list`: one row per account (state, token expiry, source), then one
// line per problem, then the ignored files. States: ok, expiring (< 24 h),
// expired, invalid.
std::string list_text(const std::vector<accounts::LoadedAccount>& accounts,
                      const std::string& accounts_dir, const accounts::AccountDirListing& listing,
                      int64_t now_unix_s);

// True when an account from load_account() can serve now (valid, token not expired
// unless a sign-in is configured).
bool account_usable(const accounts::LoadedAccount& account, int64_t now_unix_s);

// `account status`: the service line, then one row per account the service
// reports, then configured accounts it does not report.
std::string status_text(const HealthReport& report, const std::string& url,
                        const std::vector<std::string>& configured_names);

}  // namespace qp::account_tool
