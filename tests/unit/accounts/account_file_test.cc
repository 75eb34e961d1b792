#include "common/accounts/account_file.h"

#include <catch2/catch.hpp>

#include "test_util.h"

using qp::AccountConfig;
using namespace qp::accounts;

TEST_CASE("an account file sets every credential field and keeps the others", "[accounts]") {
  AccountConfig a;
  a.name = "alice";
  a.capacity = 7;
  std::string text = R"(
token = "eyJ.a.b"
cookies = "a=1; b=2"
bx_umidtoken = "umid"
bx_ua = "231!x"
bx_v = "2.5.31"
email = "alice@example.com"
password = "pw"
proxy = "socks5h://127.0.0.1:1080"
user_agent = "UA/1"
)";
  REQUIRE(apply_account_toml(text, "alice.toml", &a).ok());
  CHECK(a.name == "alice");
  CHECK(a.capacity == 7);  // not in the file: kept
  CHECK(a.token == "eyJ.a.b");
  CHECK(a.cookies == "a=1; b=2");
  CHECK(a.bx_umidtoken == "umid");
  CHECK(a.bx_ua == "231!x");
  CHECK(a.bx_v == "2.5.31");
  CHECK(a.email == "alice@example.com");
  CHECK(a.password == "pw");
  CHECK(a.proxy == "socks5h://127.0.0.1:1080");
  CHECK(a.user_agent == "UA/1");
  REQUIRE(apply_account_toml("capacity = 2\n", "alice.toml", &a).ok());
  CHECK(a.capacity == 2);
}

TEST_CASE("account file errors name the file and key, never the value", "[accounts]") {
  AccountConfig a;
  auto err = [&](const std::string& text) {
    qp::Status s = apply_account_toml(text, "/x/alice.toml", &a);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().rfind("/x/alice.toml: ", 0) == 0);
    CHECK(s.message().find("SECRET") == std::string::npos);
    return s.message();
  };
  CHECK(err("cookie = \"SECRET\"\n").find("unknown key 'cookie'") != std::string::npos);
  CHECK(err("cookies = 5\n").find("cookies must be a string") != std::string::npos);
  CHECK(err("capacity = \"SECRET\"\n").find("capacity") != std::string::npos);
  CHECK(err("capacity = 0\n").find("capacity") != std::string::npos);
  CHECK(err("capacity = 500000\n").find("capacity") != std::string::npos);
  CHECK(err("capacity = 1e30\n").find("capacity") != std::string::npos);  // fuzzing: UB in toml++
  CHECK(err("capacity = 2.0\n").find("capacity") != std::string::npos);
  CHECK(err("token = \"SECRET\n").find("line 1") != std::string::npos);
  CHECK(err("[accounts]\ntoken = \"SECRET\"\n").find("unknown key 'accounts'") !=
        std::string::npos);
}

TEST_CASE("render then parse gives the same account", "[accounts]") {
  AccountConfig a;
  a.name = "bob";
  a.token = "eyJ.x.y";
  a.cookies = "a=\"q\"; b=back\\slash";
  a.bx_umidtoken = "u";
  a.bx_ua = "231!\x01odd";
  a.user_agent = "Mozilla/5.0 (X11)";
  a.proxy = "http://user:pa%40ss@proxy:3128";
  a.capacity = 3;
  std::string text = render_account_toml(a, "line one\nline two");
  CHECK(text.rfind("# line one\n# line two\n\n", 0) == 0);
  CHECK(text.find("# email = ") != std::string::npos);  // optional fields shown as examples
  CHECK(text.find("\nproxy = ") != std::string::npos);
  AccountConfig b;
  b.name = "bob";
  REQUIRE(apply_account_toml(text, "bob.toml", &b).ok());
  CHECK(b.token == a.token);
  CHECK(b.cookies == a.cookies);
  CHECK(b.bx_umidtoken == a.bx_umidtoken);
  CHECK(b.bx_ua == a.bx_ua);
  CHECK(b.bx_v.empty());
  CHECK(b.user_agent == a.user_agent);
  CHECK(b.proxy == a.proxy);
  CHECK(b.email.empty());
  CHECK(b.capacity == 3);
}

TEST_CASE("toml_quote escapes quotes, backslashes and control characters", "[accounts]") {
  CHECK(toml_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(toml_quote("x\ny\tz") == "\"x\\ny\\tz\"");
  CHECK(toml_quote(std::string("\x01\x7f", 2)) == "\"\\u0001\\u007f\"");
}
