#include "common/accounts/account_sync.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <iterator>

#include "common/accounts/account_loader.h"
#include "common/accounts/private_file.h"

namespace qp::accounts {
namespace {

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// a \ b, both sorted.
std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool discovered(const Config& config, const AccountConfig& a) {
  return !a.from_environment && !config.accounts_dir.empty() && !a.file.empty() &&
         a.origin == a.file && a.file == account_file_path(config.accounts_dir, a.name);
}

}  // namespace

AccountSyncPlan plan_account_sync(const std::vector<std::string>& desired,
                                  const std::vector<std::string>& running,
                                  const std::vector<std::string>& pinned) {
  auto pin = sorted_unique(pinned);
  auto want = minus(sorted_unique(desired), pin);
  auto have = minus(sorted_unique(running), pin);
  return AccountSyncPlan{minus(want, have), minus(have, want)};
}

std::vector<std::string> account_files_present(const std::string& dir, Status* status) {
  AccountDirListing listing = list_account_dir(dir);
  *status = listing.status;
  std::vector<std::string> out;
  if (!listing.status.ok()) return out;
  for (const auto& name : listing.names) {
    struct stat st {};
    std::string path = account_file_path(dir, name);
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(name);
  }
  return out;
}

std::vector<std::string> writes_in_progress(const std::string& dir, int64_t stale_s) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  while (const dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name.substr(0, kPrivateTempPrefix.size()) != kPrivateTempPrefix) continue;
    struct stat st {};
    std::string path = dir + "/" + std::string(name);
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // renamed meanwhile
    if (now - static_cast<int64_t>(st.st_mtime) >= stale_s) continue;
    out.emplace_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> directory_accounts(const Config& config) {
  std::vector<std::string> out;
  for (const auto& a : config.accounts) {
    if (discovered(config, a)) out.push_back(a.name);
  }
  return out;
}

std::vector<std::string> pinned_accounts(const Config& config) {
  std::vector<std::string> out;
  for (const auto& a : config.accounts) {
    if (!discovered(config, a)) out.push_back(a.name);
  }
  return out;
}

}  // namespace qp::accounts
