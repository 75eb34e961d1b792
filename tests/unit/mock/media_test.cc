// tools/mock-qwen/media.h: the PNG the mock serves and the size it reads.
#include "tools/mock-qwen/media.h"

#include <catch2/catch.hpp>

using namespace qp::mock;

namespace {
uint32_t be32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 |
         uint32_t(uint8_t(s[at + 2])) << 8 | uint32_t(uint8_t(s[at + 3]));
}
}  // namespace

TEST_CASE("mock_png: signature, IHDR with the size, IDAT, IEND", "[media]") {
  std::string png = mock_png(16, 9);
  REQUIRE(png.size() > 8 + 25 + 12);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(be32(png, 8) == 13);
  CHECK(png.substr(12, 4) == "IHDR");
  CHECK(be32(png, 16) == 16);
  CHECK(be32(png, 20) == 9);
  CHECK(png[24] == 8);  // bit depth
  CHECK(png[25] == 2);  // RGB
  // The IHDR CRC of a 16x9 8-bit RGB image (computed independently).
  CHECK(be32(png, 29) == 0xB4483B65u);
  size_t idat = 33;
  CHECK(png.substr(idat + 4, 4) == "IDAT");
  uint32_t idat_len = be32(png, idat);
  CHECK(idat_len == 2 + 5 + 9 * (1 + 16 * 3) + 4);
  CHECK(png.substr(png.size() - 8, 4) == "IEND");
}

TEST_CASE("mock_png_dims and completion_size", "[media]") {
  uint32_t w = 0, h = 0;
  mock_png_dims("9:16", &w, &h);
  CHECK((w == 9 && h == 16));
  mock_png_dims("bogus", &w, &h);
  CHECK((w == 8 && h == 8));
  CHECK(completion_size(R"({"size":"4:3","stream":true})") == "4:3");
  CHECK(completion_size(R"({"stream":true})").empty());
  CHECK(completion_size("junk").empty());
}
