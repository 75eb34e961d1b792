#include "common/accounts/account_loader.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/accounts/account_file.h"
#include "common/accounts/private_file.h"

namespace qp::accounts {
namespace {

struct Candidate {
  std::string path;
  bool exists = false;
  bool readable = false;
  int64_t mtime_ns = 0;
};

Candidate probe(const std::string& path) {
  Candidate c;
  c.path = path;
  if (path.empty()) return c;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return c;
  c.exists = true;
  c.readable = ::access(path.c_str(), R_OK) == 0;
  c.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return c;
}

bool has_inline_credentials(const AccountConfig& a) {
  return !a.cookies.empty() || !a.token.empty() || !a.email.empty();
}

// The entry's settings without any credential, as the base a file overlays.
AccountConfig settings_only(const AccountConfig& entry) {
  AccountConfig base;
  base.name = entry.name;
  base.capacity = entry.capacity;
  base.file = entry.file;
  base.origin = entry.origin;
  return base;
}

LoadedAccount load_entry(const AccountConfig& entry, const EnvLookup& env) {
  LoadedAccount out;
  out.account = settings_only(entry);
  out.watch_path = entry.file;
  std::string cred_dir;
  Candidate cred;
  if (env("CREDENTIALS_DIRECTORY", &cred_dir) && !cred_dir.empty()) {
    cred = probe(cred_dir + "/" + entry.name);
  }
  Candidate file = probe(entry.file);

  const Candidate* pick = nullptr;
  if (cred.exists && file.exists) {
    if (cred.readable && file.readable) {
      pick = file.mtime_ns > cred.mtime_ns ? &file : &cred;
    } else {
      pick = file.readable ? &file : &cred;
    }
  } else if (cred.exists) {
    pick = &cred;
  } else if (file.exists) {
    pick = &file;
  }

  if (pick == nullptr) {
    if (has_inline_credentials(entry)) {
      out.account = entry;
      out.source = entry.origin.empty() ? "inline credentials" : entry.origin;
      auto facts = finalize_credentials(&out.account, out.source);
      if (facts) {
        out.facts = facts.value();
      } else {
        out.status = facts.error();
        out.account = settings_only(entry);
      }
      return out;
    }
    std::string where = entry.file.empty() ? std::string("no account file is configured")
                                           : entry.file + " does not exist";
    out.status = error(Code::kNotFound,
                       "account '" + entry.name + "' has no credentials: " + where +
                           " (create it with `qwenproxy account import " + entry.name + "`)");
    return out;
  }

  out.source = pick->path;
  auto text = read_private_file(pick->path);
  if (!text) {
    out.status = text.error();
    return out;
  }
  AccountConfig loaded = settings_only(entry);
  if (Status s = apply_account_toml(text.value(), pick->path, &loaded); !s.ok()) {
    out.status = s;
    return out;
  }
  auto facts = finalize_credentials(&loaded, pick->path);
  if (!facts) {
    out.status = facts.error();
    return out;
  }
  out.account = std::move(loaded);
  out.facts = facts.value();
  return out;
}

}  // namespace

bool valid_account_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::string account_file_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name + ".toml";
  return dir.back() == '/' ? dir + name + ".toml" : dir + "/" + name + ".toml";
}

LoadedAccount load_account(const Config& config, const std::string& name, const EnvLookup& env) {
  if (const AccountConfig* entry = config.find_account(name)) return load_entry(*entry, env);
  AccountConfig entry;
  entry.name = name;
  if (!config.accounts_dir.empty()) entry.file = account_file_path(config.accounts_dir, name);
  if (!valid_account_name(name)) {
    LoadedAccount out;
    out.account = entry;
    out.status = error(Code::kInvalidArgument,
                       "invalid account name (use letters, digits, '-', '_' and '.')");
    return out;
  }
  return load_entry(entry, env);
}

std::vector<LoadedAccount> load_accounts(const Config& config, const EnvLookup& env) {
  std::vector<LoadedAccount> out;
  out.reserve(config.accounts.size());
  for (const auto& entry : config.accounts) out.push_back(load_entry(entry, env));
  return out;
}

AccountDirListing list_account_dir(const std::string& dir) {
  AccountDirListing out;
  if (dir.empty()) return out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno != ENOENT) {
      out.status = error(Code::kIo,
                         "cannot list the accounts directory " + dir + ": " + std::strerror(errno));
    }
    return out;
  }
  out.exists = true;
  constexpr std::string_view kExt = ".toml";
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n.empty() || n.front() == '.') continue;
    if (n.size() <= kExt.size() || n.substr(n.size() - kExt.size()) != kExt) continue;
    std::string_view stem = n.substr(0, n.size() - kExt.size());
    if (valid_account_name(stem)) {
      out.names.emplace_back(stem);
    } else {
      out.ignored.emplace_back(n);
    }
  }
  ::closedir(d);
  std::sort(out.names.begin(), out.names.end());
  std::sort(out.ignored.begin(), out.ignored.end());
  return out;
}

}  // namespace qp::accounts
