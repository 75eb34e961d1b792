#include "common/log.h"

#include <catch2/catch.hpp>

TEST_CASE("JWT-looking strings are masked", "[log]") {
  std::string s = "cookie: token=eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IngifQ.sig-_x; other=1";
  qp::log::mask_secrets(&s);
  CHECK(s == "cookie: token=[redacted-jwt]; other=1");
  std::string plain = "eyJ but not a token";
  qp::log::mask_secrets(&plain);
  CHECK(plain == "eyJ but not a token");
}

TEST_CASE("log level parsing", "[log]") {
  qp::log::Level l;
  CHECK(qp::log::parse_level("debug", &l));
  CHECK(l == qp::log::Level::kDebug);
  CHECK(qp::log::parse_level("warning", &l));
  CHECK(l == qp::log::Level::kWarn);
  CHECK_FALSE(qp::log::parse_level("loud", &l));
}
