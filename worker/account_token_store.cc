#include "worker/account_token_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/accounts/account_file.h"
#include "common/accounts/private_file.h"
#include "common/fs.h"
#include "common/jwt.h"
#include "common/strings.h"

namespace qp::worker {
namespace {

using strings::iequals;

}  // namespace

std::string saved_token_path(const std::string& state_dir, const std::string& name) {
  if (state_dir.empty()) return {};
  std::string dir = state_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/accounts/" + name + ".token";
}

Result<std::optional<SavedToken>> read_saved_token(const std::string& path) {
  struct stat st {};
  if (path.empty() || (::lstat(path.c_str(), &st) != 0 && errno == ENOENT)) {
    return std::optional<SavedToken>();
  }
  auto text = accounts::read_private_file(path, 64 * 1024);
  if (!text) return text.error();
  AccountConfig parsed;
  if (Status s = accounts::apply_account_toml(text.value(), path, &parsed); !s.ok()) return s;
  if (parsed.email.empty() || parsed.token.empty()) {
    return error(Code::kInvalidArgument, path + ": needs both `email` and `token`");
  }
  auto exp = jwt::expiry_unix_s(parsed.token);
  if (!exp) {
    return error(Code::kInvalidArgument,
                 path + ": token is not a usable JWT: " + exp.error().message());
  }
  SavedToken out;
  out.email = std::move(parsed.email);
  out.token = std::move(parsed.token);
  out.expires_unix_s = exp.value();
  return std::optional<SavedToken>(std::move(out));
}

Status write_saved_token(const std::string& path, const std::string& email,
                         const std::string& token) {
  if (path.empty()) return error(Code::kInvalidArgument, "no state directory is configured");
  if (Status s = fs::make_dirs(fs::dir_of(path)); !s.ok()) return s;
  std::string text =
      "# written by qp-worker after signing in; delete it to forget the session\n"
      "email = " +
      accounts::toml_quote(email) + "\ntoken = " + accounts::toml_quote(token) + "\n";
  accounts::WriteOptions options;
  options.replace = true;
  return accounts::write_private_file(path, text, options);
}

bool prefer_saved_token(const AccountConfig& account, int64_t account_exp, const SavedToken& saved,
                        int64_t now_s) {
  if (account.email.empty() || !iequals(account.email, saved.email)) return false;
  if (saved.token.empty() || saved.expires_unix_s <= now_s) return false;
  if (saved.token == account.token) return false;
  return account.token.empty() || saved.expires_unix_s > account_exp;
}

}  // namespace qp::worker
