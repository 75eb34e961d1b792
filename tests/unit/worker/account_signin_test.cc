// Sign-in request and answer (account_signin.h) and the saved-token store
// (account_token_store.h).
#include "worker/account_signin.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "common/jwt.h"
#include "worker/account_token_store.h"

using namespace qp::worker;

namespace {

std::string jwt_with_exp(int64_t exp, std::string_view id = "u1") {
  return qp::jwt::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
         qp::jwt::base64url_encode("{\"id\":\"" + std::string(id) +
                                   "\",\"exp\":" + std::to_string(exp) + "}") +
         ".c2ln";
}

bool has_header(const qp::worker::HttpRequestSpec& spec, std::string_view prefix) {
  for (const auto& h : spec.headers) {
    if (h.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/qp-signin-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("sign-in body: email and the password's SHA-256 hex", "[worker][signin]") {
  CHECK(sha256_hex("password1") ==
        "0b14d501a594442a01c6859541bcb3e8164d183d32937b851835442f69d5c94e");
  CHECK(
      signin_body("a@example.com", "password1") ==
      R"({"email":"a@example.com","password":"0b14d501a594442a01c6859541bcb3e8164d183d32937b851835442f69d5c94e"})");
  // JSON escaping of the email; the password never appears in clear.
  std::string body = signin_body("a\"b@example.com", "p\"w");
  CHECK(body.find(R"(a\"b@example.com)") != std::string::npos);
  CHECK(body.find("p\\\"w") == std::string::npos);
}

TEST_CASE("sign-in request: browser headers, no old session, the account's proxy",
          "[worker][signin]") {
  qp::UpstreamConfig up;
  up.base_url = "https://chat.example";
  up.user_agent = "UA-default";
  qp::AccountConfig a;
  a.email = "a@example.com";
  a.password = "pw";
  a.token = "old.jwt.token";
  a.cookies = "x=1; token=old.jwt.token; y=2";
  a.bx_umidtoken = "umid";
  a.bx_v = "2.5.31";
  a.proxy = "socks5h://127.0.0.1:1080";
  SECTION("defaults") {
    HttpRequestSpec spec = signin_spec(up, a, "uuid-1");
    CHECK(spec.post);
    CHECK(spec.url == "https://chat.example/api/v1/auths/signin");
    CHECK(spec.cookies == "x=1; y=2");
    CHECK(spec.proxy == "socks5h://127.0.0.1:1080");
    CHECK(spec.body == signin_body("a@example.com", "pw"));
    CHECK(has_header(spec, "Content-Type: application/json"));
    CHECK(has_header(spec, "User-Agent: UA-default"));
    CHECK(has_header(spec, "bx-umidtoken: umid"));
    CHECK(has_header(spec, "bx-v: 2.5.31"));
    CHECK_FALSE(has_header(spec, "bx-ua"));
    CHECK(has_header(spec, "x-request-id: uuid-1"));
    CHECK_FALSE(has_header(spec, "Authorization"));
    CHECK(spec.total_timeout_ms > 0);
  }
  SECTION("the account's User-Agent wins; no header injection") {
    a.user_agent = "UA-account\r\nX-Evil: 1";
    HttpRequestSpec spec = signin_spec(up, a, "u");
    CHECK(has_header(spec, "User-Agent: UA-accountX-Evil: 1"));
    for (const auto& h : spec.headers) CHECK(h.find_first_of("\r\n") == std::string::npos);
  }
}

TEST_CASE("sign-in answer: the token, or why not (never echoing it)", "[worker][signin]") {
  std::string good = jwt_with_exp(4102444800);
  SECTION("top-level token") {
    auto r =
        parse_signin_response(200, R"({"id":"u","token":")" + good + R"(","token_type":"Bearer"})");
    REQUIRE(r.has_value());
    CHECK(r.value() == good);
  }
  SECTION("wrapped in data") {
    auto r = parse_signin_response(200, R"({"success":true,"data":{"token":")" + good + "\"}}");
    REQUIRE(r.has_value());
    CHECK(r.value() == good);
  }
  SECTION("wrong email or password") {
    auto r = parse_signin_response(
        400, R"({"detail":"The email or password you entered is incorrect."})");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == qp::Code::kUpstreamAuth);
    CHECK(r.error().message().find("refused") != std::string::npos);
    CHECK(r.error().message().find("incorrect") != std::string::npos);
  }
  SECTION("WAF challenge") {
    auto r = parse_signin_response(403, "<html>aliyun_waf_aa punish captcha</html>");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == qp::Code::kUpstream);
    CHECK(r.error().message().find("human verification") != std::string::npos);
  }
  SECTION("server error") {
    auto r = parse_signin_response(502, "bad gateway");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == qp::Code::kUpstream);
    CHECK(r.error().message().find("HTTP 502") != std::string::npos);
  }
  SECTION("no token, not JSON, not a JWT, no expiry") {
    for (std::string body :
         {std::string(R"({"id":"u"})"), std::string("garbage"), std::string("[1,2]"),
          std::string(R"({"token":"has spaces in it"})"), std::string(R"({"token":42})"),
          R"({"token":")" + qp::jwt::base64url_encode("{}") + "." +
              qp::jwt::base64url_encode(R"({"id":"u"})") + R"(.sig"})"}) {
      auto r = parse_signin_response(200, body);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().code() == qp::Code::kUpstream);
      CHECK(r.error().message().find("has spaces") == std::string::npos);
    }
  }
}

TEST_CASE("saved token: written private, read back, chosen only when it fits", "[worker][signin]") {
  TempDir tmp;
  std::string path = saved_token_path(tmp.path + "/state/", "alice");
  CHECK(path == tmp.path + "/state/accounts/alice.token");
  CHECK(saved_token_path("", "alice").empty());

  SECTION("missing file: nothing saved") {
    auto r = read_saved_token(path);
    REQUIRE(r.has_value());
    CHECK_FALSE(r.value().has_value());
  }
  SECTION("round trip, directories created private") {
    std::string token = jwt_with_exp(4102444800);
    REQUIRE(write_saved_token(path, "A@example.com", token).ok());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((tmp.path + "/state/accounts").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    auto r = read_saved_token(path);
    REQUIRE(r.has_value());
    REQUIRE(r.value().has_value());
    CHECK(r.value()->email == "A@example.com");
    CHECK(r.value()->token == token);
    CHECK(r.value()->expires_unix_s == 4102444800);
    // Replacing works (a later sign-in).
    REQUIRE(write_saved_token(path, "A@example.com", jwt_with_exp(4102444900)).ok());
    CHECK(read_saved_token(path).value()->expires_unix_s == 4102444900);
  }
  SECTION("a file others can read, or a bad one, is an error without the token") {
    REQUIRE(write_saved_token(path, "a@example.com", "not-a-jwt").ok());
    auto bad = read_saved_token(path);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message().find("not-a-jwt") == std::string::npos);
    REQUIRE(write_saved_token(path, "a@example.com", jwt_with_exp(4102444800)).ok());
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    auto open = read_saved_token(path);
    REQUIRE_FALSE(open.has_value());
    CHECK(open.error().message().find("chmod 600") != std::string::npos);
  }
  SECTION("no state directory: not written") {
    CHECK_FALSE(write_saved_token("", "a@example.com", jwt_with_exp(1)).ok());
  }
}

TEST_CASE("prefer_saved_token", "[worker][signin]") {
  const int64_t now = 1'800'000'000;
  qp::AccountConfig a;
  a.email = "a@example.com";
  a.password = "pw";
  a.token = "file-token";
  SavedToken s{"A@Example.com", "saved-token", now + 7 * 86400};
  CHECK(prefer_saved_token(a, now + 3600, s, now));             // outlives the file's token
  CHECK_FALSE(prefer_saved_token(a, now + 8 * 86400, s, now));  // a fresher import wins
  a.token.clear();
  CHECK(prefer_saved_token(a, 0, s, now));  // email + password only
  a.token = "file-token";
  SavedToken expired = s;
  expired.expires_unix_s = now - 1;
  CHECK_FALSE(prefer_saved_token(a, now - 100, expired, now));
  SavedToken other = s;
  other.email = "b@example.com";
  CHECK_FALSE(prefer_saved_token(a, now + 3600, other, now));  // another account's session
  qp::AccountConfig no_login = a;
  no_login.email.clear();
  CHECK_FALSE(prefer_saved_token(no_login, now + 3600, s, now));
  SavedToken same = s;
  same.token = a.token;
  CHECK_FALSE(prefer_saved_token(a, now + 3600, same, now));
}
