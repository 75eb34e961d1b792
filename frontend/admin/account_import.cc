#include "frontend/admin/account_import.h"

#include <simdjson.h>

#include "common/jwt.h"
#include "tools/account/import.h"
#include "tools/account/import_file.h"

namespace qp::frontend::admin {
namespace {

// Largest cURL command or header block, as `qwenproxy account import`
// (tools/account/commands.h); a HAR may be as large as the request body limit.
constexpr size_t kMaxTextImportBytes = 1024 * 1024;

// The JWT payload's `id` claim (Qwen's user id), or empty.
std::string token_user_id(std::string_view token) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return {};
  std::string payload;
  if (!jwt::base64url_decode(token.substr(a + 1, b - a - 1), &payload)) return {};
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(payload).get(doc) != simdjson::SUCCESS) return {};
  std::string_view id;
  if (doc["id"].get(id) != simdjson::SUCCESS) return {};
  return std::string(id);
}

// A file stem made of the allowed characters of `s`, or empty.
std::string name_from(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (out.size() == 64) break;
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') out.push_back(c);
  }
  return out;
}

}  // namespace

bool valid_admin_account_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

Result<ImportedAccount> import_account(const std::string& accounts_dir, std::string_view text,
                                       std::string name, bool replace, int64_t now_unix_s,
                                       ImportFailure* failure) {
  *failure = ImportFailure::kBadInput;
  if (accounts_dir.empty()) {
    *failure = ImportFailure::kIo;
    return error(Code::kUnavailable,
                 "No accounts directory is configured (accounts_dir or QP_ACCOUNTS_DIR).");
  }
  if (!name.empty() && !valid_admin_account_name(name))
    return error(Code::kInvalidArgument,
                 "Invalid account name: use 1 to 64 letters, digits, '-' or '_'.");
  // The parser validates for a name; a placeholder until the token tells us.
  std::string parse_name = name.empty() ? std::string("imported") : name;
  auto format = account_tool::detect_import_format(text);
  if (format == account_tool::ImportFormat::kEnv)
    return error(Code::kInvalidArgument,
                 "Paste a cURL command, a Cookie header or a HAR file (not a .env file).");
  if (format != account_tool::ImportFormat::kHar && text.size() > kMaxTextImportBytes)
    return error(Code::kInvalidArgument,
                 "The text is too large for a cURL command or headers (at most 1 MiB); paste a "
                 "HAR for more.");
  auto result = account_tool::import_credentials(text, format, parse_name, now_unix_s);
  if (!result) return error(Code::kInvalidArgument, "Import failed: " + result.error().message());
  ImportedAccount out;
  out.user_id = token_user_id(result->account.token);
  out.expires_unix_s = result->facts.token_expires_unix_s;
  if (name.empty()) name = name_from(out.user_id.empty() ? result->account.email : out.user_id);
  if (name.empty())
    return error(Code::kInvalidArgument,
                 "No account name was given and none can be derived from the token: pass "
                 "\"name\".");
  result->account.name = name;
  bool exists = false;
  auto written = account_tool::write_imported_account(accounts_dir, name, &result.value(), replace,
                                                      now_unix_s, &exists);
  if (!written) {
    *failure = exists ? ImportFailure::kExists : ImportFailure::kIo;
    if (exists)
      return error(Code::kInvalidArgument, "Account '" + name +
                                               "' already exists: send \"replace\": true to "
                                               "replace its credentials.");
    return written.error();
  }
  *failure = ImportFailure::kNone;
  out.name = name;
  out.file = written->path;
  return out;
}

}  // namespace qp::frontend::admin
