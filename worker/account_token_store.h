// The session token a worker got by signing in, kept in the state directory
// so that a restart does not sign in again (docs/deployment.md, "Rotate
// credentials"): `{state_dir}/accounts/NAME.token`, mode 0600, written
// atomically (accounts::write_private_file). The account file itself is
// never rewritten: under systemd it is read-only to the service.
//
//   # written by qp-worker after signing in; delete it to forget the session
//   email = "user@example.com"
//   token = "eyJ…"
//
// A saved token is used only for the account whose email it was signed in
// with, and only while it outlives the account file's own token: importing
// fresher credentials wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace qp::worker {

struct SavedToken {
  std::string email;
  std::string token;
  int64_t expires_unix_s = 0;
};

// `{state_dir}/accounts/{name}.token`; empty when state_dir is empty.
std::string saved_token_path(const std::string& state_dir, const std::string& name);

// Reads the saved token; nullopt when there is none (no file). Errors: the
// file is not private, not an account-style TOML, or its token is not a JWT
// with a readable expiry (never echoing the token).
Result<std::optional<SavedToken>> read_saved_token(const std::string& path);

// Writes the saved token, creating the directory (mode 0700) if needed.
Status write_saved_token(const std::string& path, const std::string& email,
                         const std::string& token);

// True if `saved` should replace the token of `account` (whose own token
// expires at `account_exp`, 0 = none): it was signed in with the account's
// email (case-insensitive), has not expired at `now_s`, and outlives the
// account's token. Pure.
bool prefer_saved_token(const AccountConfig& account, int64_t account_exp, const SavedToken& saved,
                        int64_t now_s);

}  // namespace qp::worker
