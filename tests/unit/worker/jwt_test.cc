#include "common/jwt.h"

#include <catch2/catch.hpp>

using qp::jwt::base64url_decode;
using qp::jwt::expiry_unix_s;

namespace {
std::string b64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}
std::string token(std::string_view payload) {
  return b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload) + ".c2ln";
}
}  // namespace

TEST_CASE("jwt: the captured sample token's exp", "[jwt]") {
  // Payload of the expired sample token of the upstream description.
  auto r = expiry_unix_s(token(
      R"({"id":"8d852373-d39f-4863-93ea-a9c2eba797b3","last_password_change":1761485419,"exp":1762094985})"));
  REQUIRE(r.has_value());
  CHECK(r.value() == 1762094985);
}

TEST_CASE("jwt: exp anywhere at top level, nested values skipped", "[jwt]") {
  auto r = expiry_unix_s(token(
      R"( { "a" : {"exp": 1, "b": [1, {"exp":2}, "x\"y"]}, "s": "exp", "exp" : 1700000000.9 } )"));
  REQUIRE(r.has_value());
  CHECK(r.value() == 1700000000);
}

TEST_CASE("jwt: padding is accepted", "[jwt]") {
  std::string out;
  CHECK(base64url_decode("eyJ4Ijo=", &out));
  CHECK(out == R"({"x":)");
  CHECK(base64url_decode("eyJ4Ijo", &out));
  CHECK(out == R"({"x":)");
  CHECK_FALSE(base64url_decode("a", &out));
  CHECK_FALSE(base64url_decode("ab+/", &out));
}

TEST_CASE("jwt: malformed tokens", "[jwt]") {
  const std::string no_exp = token(R"({"id":"x"})");
  for (const std::string& bad :
       {std::string(""), std::string("abc"), std::string("a.b"), std::string("a.b.c.d"),
        std::string("eyJ.!!!.sig"), token("not json"), token(R"({"exp":"1700000000"})"),
        token(R"({"exp":)"), token(R"(["exp",1])"), token(R"({"exp":-5})"), no_exp}) {
    auto r = expiry_unix_s(bad);
    INFO(bad);
    CHECK_FALSE(r.has_value());
    if (!r.has_value()) {
      CHECK(r.error().code() == qp::Code::kInvalidArgument);
      // The message never echoes the token.
      if (bad.size() > 3) CHECK(r.error().message().find(bad) == std::string::npos);
    }
  }
  CHECK_THAT(expiry_unix_s(no_exp).error().message(), Catch::Contains("no exp"));
}
