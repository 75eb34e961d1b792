// Writing an imported account to the accounts directory: shared by
// `qwenproxy account import` (commands.cc) and the admin API's import
// (frontend/admin/account_import.cc), so both write the same file the same
// way: {dir}/{name}.toml, mode 0600, atomically (write_private_file), checked
// to load before anything is replaced. Replacing keeps the fields a browser
// copy cannot provide (keep_local_fields). No secret in any message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "tools/account/import.h"

namespace qp::account_tool {

struct WrittenAccount {
  std::string path;
  std::vector<std::string> kept;  // fields kept from the replaced file
};

// `exists` is set when the file exists and `replace` is false (then nothing
// is written and the error says so). Missing parents of `dir` get 0755, `dir`
// itself 0700.
Result<WrittenAccount> write_imported_account(const std::string& dir, const std::string& name,
                                              ImportResult* result, bool replace,
                                              int64_t now_unix_s, bool* exists);

}  // namespace qp::account_tool
