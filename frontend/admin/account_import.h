// POST /admin/v1/accounts/import: a pasted "Copy as cURL", Cookie header or
// HAR becomes {accounts_dir}/{name}.toml (mode 0600, atomic), through the
// same parser and writer as `qwenproxy account import` (tools/account). The
// worker is started by the accounts-directory watch, not here.
//
// Nothing returned contains a secret: name, the token's user id and expiry,
// the file path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::frontend::admin {

// [A-Za-z0-9_-]{1,64}.
bool valid_admin_account_name(std::string_view name);

struct ImportedAccount {
  std::string name;
  std::string user_id;  // the token's `id` claim, if any
  int64_t expires_unix_s = 0;
  std::string file;
};

enum class ImportFailure { kNone, kBadInput, kExists, kIo };

// `name` empty: the name is derived from the token's user id (or e-mail).
Result<ImportedAccount> import_account(const std::string& accounts_dir, std::string_view text,
                                       std::string name, bool replace, int64_t now_unix_s,
                                       ImportFailure* failure);

}  // namespace qp::frontend::admin
