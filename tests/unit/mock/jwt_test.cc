#include "common/jwt.h"

#include <string>

#include <catch2/catch.hpp>

#include "tools/mock-qwen/jwt.h"

using qp::jwt::base64url_decode;
using qp::jwt::base64url_encode;
using qp::mock::mint_jwt;
using qp::mock::verify_jwt;

namespace {
constexpr int64_t kNow = 1'761'485'419;
}

TEST_CASE("base64url round-trips every length and uses the url alphabet", "[jwt]") {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    std::string enc = base64url_encode(bytes);
    CHECK(enc.find('=') == std::string::npos);
    CHECK(enc.find('+') == std::string::npos);
    CHECK(enc.find('/') == std::string::npos);
    std::string dec;
    REQUIRE(base64url_decode(enc, &dec));
    CHECK(dec == bytes);
    bytes.push_back(static_cast<char>(0xFB + i));  // bytes that map to '-' and '_'
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  std::string out;
  CHECK(base64url_decode("-_8=", &out));  // padding tolerated
  CHECK(out == "\xfb\xff");
  CHECK_FALSE(base64url_decode("a+b/", &out));
  CHECK_FALSE(base64url_decode("abcde", &out));  // impossible length
}

TEST_CASE("mint_jwt produces the Qwen token shape", "[jwt]") {
  std::string tok = mint_jwt("s3cret", "8d852373-d39f-4863-93ea-a9c2eba797b3", kNow + 600);
  size_t d1 = tok.find('.');
  size_t d2 = tok.find('.', d1 + 1);
  REQUIRE(d1 != std::string::npos);
  REQUIRE(d2 != std::string::npos);
  CHECK(tok.substr(0, d1) ==
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");  // {"alg":"HS256","typ":"JWT"}
  std::string payload;
  REQUIRE(base64url_decode(tok.substr(d1 + 1, d2 - d1 - 1), &payload));
  CHECK(payload.rfind("{\"id\":\"8d852373-d39f-4863-93ea-a9c2eba797b3\",\"last_password_change\":",
                      0) == 0);
  CHECK(payload.find(",\"exp\":" + std::to_string(kNow + 600) + "}") != std::string::npos);
}

TEST_CASE("verify_jwt accepts a valid token and returns the id", "[jwt]") {
  std::string tok = mint_jwt("s3cret", "user-1", kNow + 10);
  auto r = verify_jwt("s3cret", tok, kNow);
  REQUIRE(r.has_value());
  CHECK(r.value() == "user-1");
}

TEST_CASE("verify_jwt rejects expired tokens", "[jwt]") {
  std::string tok = mint_jwt("s3cret", "user-1", kNow);
  auto r = verify_jwt("s3cret", tok, kNow);  // exp == now counts as expired
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message() == "token expired");
  CHECK(r.error().code() == qp::Code::kUpstreamAuth);
  CHECK(verify_jwt("s3cret", tok, kNow - 1).has_value());
}

TEST_CASE("verify_jwt rejects a bad signature", "[jwt]") {
  std::string tok = mint_jwt("s3cret", "user-1", kNow + 10);
  SECTION("other secret") {
    auto r = verify_jwt("other", tok, kNow);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message() == "bad signature");
  }
  SECTION("tampered payload") {
    std::string forged = mint_jwt("other", "admin", kNow + 10);
    size_t a1 = tok.find('.'), a2 = tok.rfind('.');
    size_t b1 = forged.find('.'), b2 = forged.rfind('.');
    std::string mixed = tok.substr(0, a1 + 1) + forged.substr(b1 + 1, b2 - b1 - 1) + tok.substr(a2);
    auto r = verify_jwt("s3cret", mixed, kNow);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message() == "bad signature");
  }
  SECTION("truncated signature") {
    auto r = verify_jwt("s3cret", tok.substr(0, tok.size() - 2), kNow);
    REQUIRE_FALSE(r.has_value());
  }
}

TEST_CASE("verify_jwt rejects malformed tokens without echoing them", "[jwt]") {
  std::string good = mint_jwt("s3cret", "user-1", kNow + 10);
  const std::string cases[] = {
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      "!!!.???.***",
      good + ".extra",
      // alg none
      base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
          base64url_encode(R"({"id":"x","exp":9999999999})") + ".",
      // not JSON
      base64url_encode("hello") + "." + base64url_encode("world") + ".sig",
  };
  for (const auto& c : cases) {
    auto r = verify_jwt("s3cret", c, kNow);
    REQUIRE_FALSE(r.has_value());
    if (!c.empty()) CHECK(r.error().message().find(c) == std::string::npos);
  }
}

TEST_CASE("verify_jwt rejects a signed token with an empty id", "[jwt]") {
  auto r = verify_jwt("s3cret", mint_jwt("s3cret", "", kNow + 10), kNow);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message() == "malformed token");
  CHECK(r.error().code() == qp::Code::kInvalidArgument);
}

TEST_CASE("mint_jwt escapes quotes in the user id", "[jwt]") {
  auto r = verify_jwt("s3cret", mint_jwt("s3cret", "a\"b\\c", kNow + 10), kNow);
  REQUIRE(r.has_value());
  CHECK(r.value() == "a\"b\\c");
}
