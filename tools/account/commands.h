// `qwenproxy account import|list|status`: the I/O around the pure parts
// (import.h, report.h). Each run_* prints to stdout/stderr and returns the
// process exit code.
//
// Which configuration: --config, else $QP_CONFIG, else the system one
// (QP_DEFAULT_CONFIG, /etc/qwenproxy/qwenproxy.toml) if it exists, else none.
// Which accounts directory: --dir, else the configuration's accounts_dir.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"

namespace qp::account_tool {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitProblem = 1;      // bad input, invalid account, service not ok
inline constexpr int kExitUsage = 2;        // bad options or configuration
inline constexpr int kExitUnreachable = 3;  // `status`: the service did not answer

// Largest input `import` reads: a HAR with response bodies can be big, but
// anything larger is not a browser export.
inline constexpr uint64_t kMaxImportBytes = 64ull * 1024 * 1024;
// Largest cURL command, header block or .env input.
inline constexpr uint64_t kMaxTextImportBytes = 1024 * 1024;

// `qwenproxy up` writes the frontend's URL here (in runtime_dir) once it is
// ready, for `account status`.
inline constexpr std::string_view kFrontendUrlFile = "frontend.url";

struct ImportOptions {
  std::string name;
  std::string from = "-";  // file, or "-" for stdin
  std::string format = "auto";
  std::string dir;
  std::string config_path;
  bool force = false;
};
int run_import(const ImportOptions& options);

struct ListOptions {
  std::string dir;
  std::string config_path;
};
int run_list(const ListOptions& options);

struct StatusOptions {
  std::string url;  // e.g. http://127.0.0.1:8080 (default: runtime file, then config)
  std::string config_path;
  uint64_t timeout_ms = 5000;
};
int run_status(const StatusOptions& options);

// systemd: start qwenproxy-worker@NAME.service for each account file in the
// accounts directory and stop the instances whose file is gone (run by
// qwenproxy-accounts.service when qwenproxy-accounts.path sees a change).
// Talks to systemd over D-Bus (sync_units.cc).
struct SyncUnitsOptions {
  std::string dir;
  std::string config_path;
  bool dry_run = false;  // print the plan, change nothing
};
int run_sync_units(const SyncUnitsOptions& options);

// The configuration the account commands work on (see the top of this file).
Result<Config> account_config(const std::string& config_path, const std::string& dir);

}  // namespace qp::account_tool
