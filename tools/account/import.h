// `qwenproxy account import`: turns what the user copied from the browser
// into a validated account (pure: the command does the I/O, commands.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/accounts/credentials.h"
#include "common/config.h"
#include "common/status.h"

namespace qp::account_tool {

enum class ImportFormat { kAuto, kCurl, kCookie, kHar, kEnv };

// "auto", "curl", "cookie", "har", "env".
Result<ImportFormat> parse_import_format(std::string_view name);
// A HAR is JSON ('{'); a command starts with curl/curl.exe or is PowerShell;
// KEY=value lines naming QWEN_COOKIES are a .env file; anything else is read
// as cookies/headers.
ImportFormat detect_import_format(std::string_view text);

struct ImportResult {
  // Validated; `cookies` holds every cookie but `token` (the file keeps the
  // JWT once, in `token`; the loader puts it back into the Cookie header).
  AccountConfig account;
  accounts::CredentialFacts facts;
  std::string source;      // e.g. "cURL command (bash)"
  std::string request;     // "POST chat.qwen.ai/api/v2/chats/new", or ""
  std::string token_from;  // "Authorization header", "token cookie", …
  // Names only, in order, without `token`; a name that is not an HTTP token
  // of at most 64 bytes (a mangled paste can put anything, a credential
  // included, before an `=`) is only counted, never shown.
  std::vector<std::string> cookie_names;
  size_t malformed_cookie_names = 0;
  std::vector<std::string> notes;  // warnings worth showing (no secrets)
};

// Parses `text` in `format` and validates the result for account `name`.
// A missing or malformed token and a token that has already expired (at
// `now_unix_s`) are errors. Messages never contain the input's secrets.
Result<ImportResult> import_credentials(std::string_view text, ImportFormat format,
                                        const std::string& name, int64_t now_unix_s);

// When replacing an existing account file: keeps the fields a browser copy
// cannot provide (email, password, proxy, capacity) from `existing`. Returns
// the names of the fields kept.
std::vector<std::string> keep_local_fields(const AccountConfig& existing, AccountConfig* imported);

// The lines `qwenproxy account import` prints after writing `path`. No secrets:
// field names, cookie names, the token's expiry.
std::string import_summary(const ImportResult& result, const std::string& path,
                           const std::vector<std::string>& kept, int64_t now_unix_s);

}  // namespace qp::account_tool
