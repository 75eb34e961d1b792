#include "tools/mock-qwen/users.h"

#include <simdjson.h>

#include "tools/mock-qwen/auth.h"
#include "tools/mock-qwen/json_util.h"

namespace qp::mock {
namespace {

namespace od = simdjson::ondemand;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

qp::Status bad(size_t i, std::string_view what) {
  return qp::Status(qp::Code::kInvalidArgument,
                    "users: entry " + std::to_string(i) + ": " + std::string(what));
}

}  // namespace

UserDb UserDb::defaults() {
  UserDb db;
  db.users_.push_back({"00000000-0000-4000-8000-000000000001", "test1@example.com", "test1",
                       sha256_hex("password1")});
  db.users_.push_back({"00000000-0000-4000-8000-000000000002", "test2@example.com", "test2",
                       sha256_hex("password2")});
  return db;
}

qp::Result<UserDb> UserDb::parse(std::string_view json) {
  UserDb db;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  od::json_type type;
  if (parser.iterate(padded).get(doc) || doc.type().get(type)) {
    return qp::Status(qp::Code::kInvalidArgument, "users: invalid JSON");
  }
  od::array arr;
  bool ok = type == od::json_type::array    ? !doc.get_array().get(arr)
            : type == od::json_type::object ? !doc["users"].get_array().get(arr)
                                            : false;
  if (!ok) return qp::Status(qp::Code::kInvalidArgument, "users: expected an array of users");
  size_t i = 0;
  for (auto item : arr) {
    od::object obj;
    if (item.get_object().get(obj)) return bad(i, "must be an object");
    User u;
    for (auto field : obj) {
      std::string_view key, val;
      if (field.unescaped_key().get(key)) return bad(i, "bad key");
      if (field.value().get_string().get(val)) return bad(i, "values must be strings");
      if (key == "id")
        u.id.assign(val);
      else if (key == "email")
        u.email.assign(val);
      else if (key == "name")
        u.name.assign(val);
      else if (key == "password")
        u.password_sha256 = sha256_hex(val);
      else if (key == "password_sha256")
        u.password_sha256 = lower(val);
      else
        return bad(i, "unknown key \"" + std::string(key) + "\"");
    }
    if (u.id.empty() || u.email.empty() || u.password_sha256.empty()) {
      return bad(i, "needs id, email and password or password_sha256");
    }
    if (u.name.empty()) u.name = u.email.substr(0, u.email.find('@'));
    db.users_.push_back(std::move(u));
    ++i;
  }
  return db;
}

const User* UserDb::signin(std::string_view email, std::string_view password_sha256) const {
  std::string e = lower(email);
  std::string p = lower(password_sha256);
  for (const auto& u : users_) {
    if (lower(u.email) == e && u.password_sha256 == p) return &u;
  }
  return nullptr;
}

const User* UserDb::find(std::string_view id) const {
  for (const auto& u : users_) {
    if (u.id == id) return &u;
  }
  return nullptr;
}

}  // namespace qp::mock
