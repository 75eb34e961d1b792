#include "common/accounts/credentials.h"

#include <catch2/catch.hpp>

#include "test_util.h"

using qp::AccountConfig;
using qp::cookie_value;
using namespace qp::accounts;
using qp::test::kJwt;

namespace {
AccountConfig with_cookies(const std::string& cookies) {
  AccountConfig a;
  a.name = "a";
  a.cookies = cookies;
  return a;
}
std::string error_of(AccountConfig a) {
  auto r = finalize_credentials(&a, "origin.toml");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message().rfind("origin.toml: ", 0) == 0);
  CHECK(r.error().message().find(kJwt) == std::string::npos);
  return r.error().message();
}
}  // namespace

TEST_CASE("the token comes from `token` or from the token cookie", "[accounts]") {
  SECTION("cookie only") {
    AccountConfig a = with_cookies("a=1; token=" + kJwt + "; b=2");
    auto r = finalize_credentials(&a, "o");
    REQUIRE(r.has_value());
    CHECK(r->token_from_cookie);
    CHECK(r->token_expires_unix_s == qp::test::kJwtExp);
    CHECK(a.token == kJwt);
    CHECK(a.cookies == "a=1; token=" + kJwt + "; b=2");  // untouched
  }
  SECTION("explicit token is added to the cookies") {
    AccountConfig a = with_cookies("a=1; b=2");
    a.token = "  Bearer " + kJwt + " ";
    auto r = finalize_credentials(&a, "o");
    REQUIRE(r.has_value());
    CHECK_FALSE(r->token_from_cookie);
    CHECK(a.token == kJwt);
    CHECK(a.cookies == "a=1; b=2; token=" + kJwt);
  }
  SECTION("explicit token replaces a different token cookie") {
    AccountConfig a = with_cookies("token=old.old.old; a=1");
    a.token = kJwt;
    REQUIRE(finalize_credentials(&a, "o").has_value());
    CHECK(a.cookies == "a=1; token=" + kJwt);
    CHECK(cookie_value(a.cookies, "token") == kJwt);
  }
  SECTION("token without any cookie") {
    AccountConfig a;
    a.token = kJwt;
    REQUIRE(finalize_credentials(&a, "o").has_value());
    CHECK(a.cookies == "token=" + kJwt);
  }
  SECTION("an expired token is not an error here") {
    AccountConfig a = with_cookies("token=" + qp::test::kExpiredJwt);
    auto r = finalize_credentials(&a, "o");
    REQUIRE(r.has_value());
    CHECK(r->token_expires_unix_s == 1600000000);
  }
  SECTION("email and password alone are enough (the worker signs in)") {
    AccountConfig a;
    a.email = "x@example.com";
    a.password = "pw";
    auto r = finalize_credentials(&a, "o");
    REQUIRE(r.has_value());
    CHECK(r->token_expires_unix_s == 0);
  }
}

TEST_CASE("invalid credentials are rejected with the key named", "[accounts]") {
  CHECK(error_of(with_cookies("a=1")).find("no session token") != std::string::npos);
  CHECK(error_of(with_cookies("token=abc")).find("not a usable JWT") != std::string::npos);
  CHECK(error_of(with_cookies("token=a b.c.d")).find("not a JWT") != std::string::npos);
  AccountConfig a = with_cookies("token=" + kJwt);
  a.bx_ua = "x\r\nEvil: 1";
  CHECK(error_of(a).find("bx_ua contains a control character") != std::string::npos);
  a = with_cookies("token=" + kJwt + "\n");
  CHECK(error_of(a).find("cookies contains a control character") != std::string::npos);
  // Found by tests/fuzz (account_import): a byte that is not UTF-8 was
  // imported and written to an account file that TOML then refused to load.
  a = with_cookies("token=" + kJwt + "; aui=6f\x92st");
  CHECK(error_of(a).find("cookies is not valid UTF-8 text") != std::string::npos);
  a = with_cookies("token=" + kJwt);
  a.user_agent = "Mozilla/5.0 \xe2\x82";  // truncated sequence
  CHECK(error_of(a).find("user_agent is not valid UTF-8 text") != std::string::npos);
  a.user_agent = "Mozilla/5.0 \xed\xa0\x80";  // a surrogate
  CHECK(error_of(a).find("user_agent is not valid UTF-8 text") != std::string::npos);
  a.user_agent = "Mozilla/5.0 caf\xc3\xa9 \xf0\x9f\x9a\x80";
  CHECK(finalize_credentials(&a, "o").has_value());
  a = with_cookies("token=" + kJwt);
  a.email = "x@example.com";
  CHECK(error_of(a).find("email is set but password is not") != std::string::npos);
  a.email = "";
  a.password = "p";
  CHECK(error_of(a).find("password is set but email is not") != std::string::npos);
  a.password = "";
  a.email = "nope";
  a.password = "p";
  CHECK(error_of(a).find("email does not look") != std::string::npos);
  a = with_cookies("token=" + kJwt);
  a.proxy = "ftp://secret@host";
  std::string m = error_of(a);
  CHECK(m.find("proxy must be") != std::string::npos);
  CHECK(m.find("secret@host") == std::string::npos);
  a.proxy = "";
  a.capacity = 0;
  CHECK(error_of(a).find("capacity") != std::string::npos);
}

TEST_CASE("proxy URLs", "[accounts]") {
  CHECK(valid_proxy_url("http://127.0.0.1:3128"));
  CHECK(valid_proxy_url("https://proxy.example:443"));
  CHECK(valid_proxy_url("socks5h://user:pass@10.0.0.1:1080"));
  CHECK(valid_proxy_url("socks4a://h:1"));
  CHECK_FALSE(valid_proxy_url("socks5h://"));
  CHECK_FALSE(valid_proxy_url("socks5h://user@"));
  CHECK_FALSE(valid_proxy_url("127.0.0.1:1080"));
  CHECK_FALSE(valid_proxy_url("http://a b:1"));
}

TEST_CASE("remove_cookie drops every occurrence and keeps the order", "[accounts]") {
  CHECK(remove_cookie("a=1; token=x; b=2; token=y", "token") == "a=1; b=2");
  CHECK(remove_cookie("token=x", "token").empty());
  CHECK(remove_cookie(" a=1 ;; xtoken=2 ;", "token") == "a=1; xtoken=2");
}
