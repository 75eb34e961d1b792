#include "tools/account/import_file.h"

#include <sys/stat.h>

#include "common/accounts/account_file.h"
#include "common/accounts/account_loader.h"
#include "common/accounts/private_file.h"
#include "common/fs.h"
#include "tools/account/time_text.h"

namespace qp::account_tool {

Result<WrittenAccount> write_imported_account(const std::string& dir, const std::string& name,
                                              ImportResult* result, bool replace,
                                              int64_t now_unix_s, bool* exists) {
  if (exists != nullptr) *exists = false;
  // Missing parents get 0755 (the service user must be able to traverse
  // them), the accounts directory itself 0700.
  if (Status s = fs::make_dirs(dir, 0700, 0755); !s.ok()) return s;
  WrittenAccount out;
  out.path = accounts::account_file_path(dir, name);
  accounts::WriteOptions wo;
  wo.replace = replace;
  struct stat st {};
  bool existed = ::stat(out.path.c_str(), &st) == 0;
  if (existed && !replace) {
    if (exists != nullptr) *exists = true;
    return error(Code::kInvalidArgument, out.path + " already exists");
  }
  if (existed) {
    wo.owner_uid = st.st_uid;
    wo.owner_gid = st.st_gid;
    auto old_text = accounts::read_private_file(out.path);
    AccountConfig old;
    if (old_text && accounts::apply_account_toml(old_text.value(), out.path, &old).ok()) {
      out.kept = keep_local_fields(old, &result->account);
    } else {
      result->notes.push_back("the previous file could not be read; nothing was kept from it");
    }
  } else if (::stat(dir.c_str(), &st) == 0) {
    // Under sudo, the new file belongs to whoever owns the directory (the
    // service user, after `systemd-tmpfiles --create`).
    wo.owner_uid = st.st_uid;
    wo.owner_gid = st.st_gid;
  }
  std::string comment = "qwenproxy account '" + name + "', imported from a " + result->source +
                        " on " + utc_text(now_unix_s) +
                        ".\nIt holds credentials: keep it private (chmod 600).\n"
                        "Fields: docs/configuration.md, section \"Account files\".";
  std::string text = accounts::render_account_toml(result->account, comment);
  // What we write must load: check it before replacing anything.
  AccountConfig check;
  check.name = name;
  if (Status s = accounts::apply_account_toml(text, out.path, &check); !s.ok()) {
    return error(Code::kInternal,
                 "internal error: the rendered file does not parse: " + s.message());
  }
  if (auto f = accounts::finalize_credentials(&check, out.path); !f) {
    return error(Code::kInternal,
                 "internal error: the rendered file is invalid: " + f.error().message());
  }
  if (Status s = accounts::write_private_file(out.path, text, wo); !s.ok()) return s;
  return out;
}

}  // namespace qp::account_tool
