// Finds and loads an account's credentials. load_config() only knows account
// names and where their credentials live; this reads them, so that only the
// process that needs an account's secrets (its worker, or the `qwenproxy
// account` command) ever reads them, and one bad account file never stops
// anything else: each account gets its own status.
//
// Where account NAME's credentials come from, in order:
//  1. a file: `$CREDENTIALS_DIRECTORY/NAME` (systemd LoadCredential=NAME:…)
//     and/or the account file (the entry's `file`, else
//     `{accounts_dir}/NAME.toml`). When both exist, the newer one the process
//     can read wins (ties go to the credential): systemd copies the
//     credential when the unit starts, so an account file edited later is
//     picked up on reload without a restart, and a file the service user
//     cannot read still works through LoadCredential=.
//  2. else the credentials written inline in the [[accounts]] entry or in the
//     QWEN_* environment / .env variables.
// The file must be private (private_file.h) and valid (account_file.h,
// credentials.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/accounts/credentials.h"
#include "common/config.h"
#include "common/status.h"

namespace qp::accounts {

struct LoadedAccount {
  // Name always set. The credentials are complete and normalised only when
  // status.ok(); else the other fields are the entry's defaults.
  AccountConfig account;
  // What was read: a file path, or AccountConfig::origin for inline credentials.
  std::string source;
  // The account file to watch for changes (empty if none is configured).
  // It may differ from `source` when the credential copy was used.
  std::string watch_path;
  Status status;  // why the credentials are unusable (never contains a secret)
  CredentialFacts facts;
};

// True for a name usable as an account (and file stem, and systemd instance):
// 1..64 of [A-Za-z0-9._-], not starting with '.'.
bool valid_account_name(std::string_view name);

// Loads account `name`: the configured entry if there is one, else an entry
// whose file is `{accounts_dir}/NAME.toml` (so a worker started by systemd
// for an instance name works even when it cannot list the directory).
LoadedAccount load_account(const Config& config, const std::string& name,
                           const EnvLookup& env = process_env());

// load_account() for every configured account, in configuration order.
std::vector<LoadedAccount> load_accounts(const Config& config,
                                         const EnvLookup& env = process_env());

struct AccountDirListing {
  std::vector<std::string> names;    // NAME of each NAME.toml with a valid NAME, sorted
  std::vector<std::string> ignored;  // other *.toml file names, sorted (reported, never loaded)
  Status status;                     // OK also when the directory does not exist
  bool exists = false;
};

// Lists `dir` (no file is opened). Hidden files and non-.toml files are skipped.
AccountDirListing list_account_dir(const std::string& dir);

// `{dir}/{name}.toml`.
std::string account_file_path(const std::string& dir, const std::string& name);

}  // namespace qp::accounts
