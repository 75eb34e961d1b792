// Which workers to start and stop when the accounts directory changes: a
// pure function of the desired set (the account files there now) and the
// running set (workers started for such files). Used by `qwenproxy up`'s
// directory watch (tools/launcher) and by `qwenproxy account sync-units`
// (systemd: qwenproxy-worker@NAME instances).
//
// Accounts defined elsewhere (an [[accounts]] entry with credentials or a
// file of its own, the QWEN_* variables) are "pinned": their worker runs for
// the whole launcher run, whatever the directory holds, and is never started
// or stopped here. Directory accounts are the ones config discovery added
// for a NAME.toml (common/config.cc discover_accounts).
//
// The directory scan (launcher.cc) decides what counts as present: a regular
// file (or a symlink to one) `NAME.toml` with a valid, non-hidden NAME, as
// listed by accounts::list_account_dir(). Editors' temporary files
// (`.NAME.toml.swp`, `NAME.toml~`, `.NAME.tmp`, `4913`) are not *.toml or are
// hidden, so they never start a worker; a replace by rename is one change.
// A file that is present but not private still starts its worker, which
// reports credentials_invalid with the fix in /health (as at start-up).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace qp::accounts {

struct AccountSyncPlan {
  std::vector<std::string> start;  // sorted, unique
  std::vector<std::string> stop;   // sorted, unique
  bool empty() const { return start.empty() && stop.empty(); }
};

// desired: account names with a file in the directory now; running: names
// whose worker the launcher runs for a directory file; pinned: accounts
// configured elsewhere (ignored in both sets). Inputs need not be sorted.
AccountSyncPlan plan_account_sync(const std::vector<std::string>& desired,
                                  const std::vector<std::string>& running,
                                  const std::vector<std::string>& pinned);

// The one I/O helper here: the desired set, read from `dir` now (NAME of
// each NAME.toml that list_account_dir() accepts and that is a regular file
// or a symlink to one). A missing directory is empty; a directory that
// cannot be listed sets `*status` (callers then change nothing).
std::vector<std::string> account_files_present(const std::string& dir, Status* status);

// A temporary file of write_private_file older than this is left over from a
// writer that died before its rename: not a write in progress.
inline constexpr int64_t kStaleWriteS = 60;

// Names of write_private_file's temporary files (kPrivateTempPrefix…) in
// `dir` modified less than `stale_s` seconds ago: each is an account file
// about to be renamed in. A watcher woken by the temporary file's creation
// (systemd's PathChanged= fires on it, an fsync before the rename) must wait
// for them to go, or it lists the directory too early and misses the file
// (the rename's own trigger is merged into the running sync). Empty when
// there are none or the directory cannot be listed.
std::vector<std::string> writes_in_progress(const std::string& dir, int64_t stale_s = kStaleWriteS);

// Accounts of `config` that config discovery added from accounts_dir.
std::vector<std::string> directory_accounts(const Config& config);
// The other configured accounts (never started or stopped by a sync).
std::vector<std::string> pinned_accounts(const Config& config);

}  // namespace qp::accounts
