#include "tools/mock-qwen/auth.h"

#include <string>

#include <catch2/catch.hpp>

#include "tools/mock-qwen/jwt.h"
#include "tools/mock-qwen/users.h"

using namespace qp::mock;  // NOLINT(google-build-using-namespace): test brevity
using Kind = AuthInfo::Kind;

namespace {
constexpr int64_t kNow = 1'761'485'419;
qp::http::Headers h(std::initializer_list<std::pair<const char*, std::string>> kv) {
  qp::http::Headers out;
  for (const auto& [k, v] : kv) out.push_back({k, v});
  return out;
}
}  // namespace

TEST_CASE("bearer header or token cookie authenticates", "[auth]") {
  std::string tok = mint_jwt("sec", "user-1", kNow + 60);
  auto bearer = authenticate(h({{"authorization", "Bearer " + tok}}), "sec", kNow);
  CHECK(bearer.kind == Kind::kUser);
  CHECK(bearer.user_id == "user-1");
  auto cookie = authenticate(h({{"cookie", "x-ap=na; token=" + tok + "; acw_tc=1"}}), "sec", kNow);
  CHECK(cookie.kind == Kind::kUser);
  CHECK(cookie.user_id == "user-1");
  auto lower = authenticate(h({{"authorization", "bearer " + tok}}), "sec", kNow);
  CHECK(lower.kind == Kind::kUser);
}

TEST_CASE("either valid token is enough", "[auth]") {
  std::string good = mint_jwt("sec", "user-1", kNow + 60);
  std::string expired = mint_jwt("sec", "user-1", kNow - 1);
  auto a = authenticate(h({{"authorization", "Bearer " + expired}, {"cookie", "token=" + good}}),
                        "sec", kNow);
  CHECK(a.kind == Kind::kUser);
}

TEST_CASE("invalid tokens are rejected, missing ones mean guest", "[auth]") {
  std::string expired = mint_jwt("sec", "user-1", kNow - 1);
  auto e = authenticate(h({{"authorization", "Bearer " + expired}}), "sec", kNow);
  CHECK(e.kind == Kind::kInvalid);
  CHECK(e.error == "token expired");
  auto wrong =
      authenticate(h({{"cookie", "token=" + mint_jwt("other", "u", kNow + 9)}}), "sec", kNow);
  CHECK(wrong.kind == Kind::kInvalid);
  CHECK(wrong.error == "bad signature");
  CHECK(authenticate(h({{"authorization", "Bearer garbage"}}), "sec", kNow).kind == Kind::kInvalid);
  CHECK(authenticate(h({}), "sec", kNow).kind == Kind::kGuest);
  CHECK(authenticate(h({{"authorization", "Bearer null"}}), "sec", kNow).kind == Kind::kGuest);
  CHECK(authenticate(h({{"authorization", "Basic abc"}}), "sec", kNow).kind == Kind::kGuest);
  CHECK(authenticate(h({{"cookie", "acw_tc=1; x-ap=na"}}), "sec", kNow).kind == Kind::kGuest);
}

TEST_CASE("cookie_value parses cookie headers", "[auth]") {
  CHECK(cookie_value("a=1; token=abc; b=2", "token") == "abc");
  CHECK(cookie_value("token=abc", "token") == "abc");
  CHECK(cookie_value(" token = \"q\" ", "token") == "q");
  CHECK(cookie_value("xtoken=1; tokens=2", "token").empty());
  CHECK(cookie_value("", "token").empty());
  CHECK(cookie_value(";;=;token", "token").empty());
}

TEST_CASE("guest owner ids never contain the device token", "[auth]") {
  std::string id = guest_owner_id("T2gAsecretDeviceToken=");
  CHECK(id.rfind("guest-", 0) == 0);
  CHECK(id.size() == 6 + 16);
  CHECK(id.find("T2gA") == std::string::npos);
  CHECK(guest_owner_id("T2gAsecretDeviceToken=") == id);
  CHECK(guest_owner_id("other") != id);
  CHECK(guest_owner_id("") == "guest-anonymous");
}

TEST_CASE("sha256_hex matches the known vector", "[auth]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("users sign in with the sha256 of their password", "[users]") {
  UserDb db = UserDb::defaults();
  const User* u = db.signin("TEST1@example.com", sha256_hex("password1"));
  REQUIRE(u != nullptr);
  CHECK(u->id == "00000000-0000-4000-8000-000000000001");
  CHECK(db.signin("test1@example.com", sha256_hex("wrong")) == nullptr);
  CHECK(db.signin("test1@example.com", "password1") == nullptr);  // plain text is not accepted

  auto parsed = UserDb::parse(R"({"users":[{"id":"u9","email":"a@b.c","password":"pw"},
      {"id":"u8","email":"x@y.z","password_sha256":"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"}]})");
  REQUIRE(parsed.has_value());
  CHECK(parsed->signin("a@b.c", sha256_hex("pw")) != nullptr);
  CHECK(parsed->signin("x@y.z", sha256_hex("abc")) != nullptr);
  CHECK(parsed->find("u9")->name == "a");
  CHECK_FALSE(UserDb::parse(R"([{"id":"u","email":"e"}])").has_value());
  CHECK_FALSE(UserDb::parse(R"([{"id":"u","email":"e","password":"p","role":"x"}])").has_value());
}
