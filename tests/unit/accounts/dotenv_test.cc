#include "common/accounts/dotenv.h"

#include <catch2/catch.hpp>

using namespace qp::accounts;

TEST_CASE("dotenv reads the old proxy's .env", "[accounts]") {
  auto r = parse_dotenv(R"(# Server Configuration
PORT=3000
export NODE_ENV=development   # trailing comment

QWEN_TOKEN = umid==
QWEN_COOKIES="a=1; token=x.y.z"
SINGLE='it is $raw \n'
ESC="line1\nline2 \"q\" \\"
MULTI="first
second"
EMPTY=
HASH=a#b
)",
                        ".env");
  REQUIRE(r.has_value());
  auto& e = r.value();
  CHECK(e.at("PORT") == "3000");
  CHECK(e.at("NODE_ENV") == "development");
  CHECK(e.at("QWEN_TOKEN") == "umid==");
  CHECK(e.at("QWEN_COOKIES") == "a=1; token=x.y.z");
  CHECK(e.at("SINGLE") == "it is $raw \\n");  // single quotes: no escapes
  CHECK(e.at("ESC") == "line1\nline2 \"q\" \\");
  CHECK(e.at("MULTI") == "first\nsecond");
  CHECK(e.at("EMPTY").empty());
  CHECK(e.at("HASH") == "a#b");
}

TEST_CASE("dotenv errors give the line, never the value", "[accounts]") {
  auto bad = [](const std::string& text) {
    auto r = parse_dotenv(text, "/x/.env");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find("SECRET") == std::string::npos);
    return r.error().message();
  };
  CHECK(bad("A=1\nSECRET\n") == "/x/.env: line 2: expected KEY=value");
  CHECK(bad("9X=SECRET\n") == "/x/.env: line 1: invalid variable name");
  CHECK(bad("A=\"SECRET\n") == "/x/.env: line 1: unterminated quoted value");
  CHECK(bad("A=\"x\" SECRET\n") == "/x/.env: line 1: unexpected text after the closing quote");
}
