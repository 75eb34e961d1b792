#include "common/strings.h"

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "common/numeric.h"

using qp::strings::auth_credentials;

// "bearer" and "BEARER" were refused: the scheme is case-insensitive, and
// blanks between scheme and token are allowed.
TEST_CASE("Authorization credentials: scheme in any case, any blanks", "[strings]") {
  CHECK(auth_credentials("Bearer k1", "bearer") == "k1");
  CHECK(auth_credentials("bearer k1", "bearer") == "k1");
  CHECK(auth_credentials("BEARER k1", "bearer") == "k1");
  CHECK(auth_credentials("Bearer    k1", "bearer") == "k1");
  CHECK(auth_credentials("Bearer \tk1 ", "bearer") == "k1");
  CHECK(auth_credentials("Bearerk1", "bearer").empty());
  CHECK(auth_credentials("Bearer ", "bearer").empty());
  CHECK(auth_credentials("Basic k1", "bearer").empty());
  CHECK(auth_credentials("", "bearer").empty());
}

TEST_CASE("iequals and trim_blanks", "[strings]") {
  CHECK(qp::strings::iequals("Content-Type", "content-type"));
  CHECK_FALSE(qp::strings::iequals("a", "ab"));
  CHECK(qp::strings::trim_blanks(" \t x y \t") == "x y");
}

TEST_CASE("saturate_to_int64: in range, beyond it, NaN", "[strings]") {
  CHECK(qp::saturate_to_int64(42.9) == 42);
  CHECK(qp::saturate_to_int64(-7.5) == -7);
  CHECK(qp::saturate_to_int64(1e300) == std::numeric_limits<int64_t>::max());
  CHECK(qp::saturate_to_int64(-1e300) == std::numeric_limits<int64_t>::min());
  CHECK(qp::saturate_to_int64(9223372036854775807.0) == std::numeric_limits<int64_t>::max());
  CHECK(qp::saturate_to_int64(std::nan("")) == 0);
}
