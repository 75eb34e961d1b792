// Test accounts for POST /api/v1/auths/signin (docs/mock-qwen.md, "Auth"):
// e-mail, password (sent by clients as its sha256 hex) and the user id that
// goes into the JWT. Pure.
//
// Users file (--users): a JSON array, or {"users": [...]}, of
//   {"id": "…", "email": "…", "name": "…", "password": "plain"}
// where "password_sha256": "<hex>" may replace "password".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::mock {

struct User {
  std::string id;
  std::string email;
  std::string name;
  std::string password_sha256;  // lower-case hex
};

class UserDb {
 public:
  UserDb() = default;
  // Two built-in accounts (documented in docs/mock-qwen.md):
  //   test1@example.com / password1, id 00000000-0000-4000-8000-000000000001
  //   test2@example.com / password2, id 00000000-0000-4000-8000-000000000002
  static UserDb defaults();
  static qp::Result<UserDb> parse(std::string_view json);

  // The user whose e-mail matches (case-insensitive) and whose password hash
  // equals password_sha256 (case-insensitive hex), else nullptr.
  const User* signin(std::string_view email, std::string_view password_sha256) const;
  const User* find(std::string_view id) const;
  const std::vector<User>& users() const { return users_; }

 private:
  std::vector<User> users_;
};

}  // namespace qp::mock
