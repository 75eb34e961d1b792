#include "common/media/media.h"

#include <string>

#include <catch2/catch.hpp>

#include "common/media/oss_signature.h"

using namespace qp::media;

namespace {

void put_be32(std::string* s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A PNG signature and IHDR chunk (the CRC is not checked by the sniffer).
std::string make_png(uint32_t w, uint32_t h) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  put_be32(&png, 13);
  png += "IHDR";
  put_be32(&png, w);
  put_be32(&png, h);
  png += std::string("\x08\x00\x00\x00\x00", 5);
  put_be32(&png, 0);
  return png;
}

}  // namespace

TEST_CASE("sniff judges the bytes, not a label", "[media]") {
  std::string png = make_png(37, 23);
  CHECK(sniff(png) == Type::kPng);
  CHECK(mime_of(sniff(png)) == "image/png");
  CHECK(sniff(std::string("\xFF\xD8\xFF\xE0", 4)) == Type::kJpeg);
  CHECK(sniff("GIF89a\x05\x00\x03\x00") == Type::kGif);
  CHECK(sniff(std::string("RIFF\x10\x00\x00\x00WEBPVP8L", 16)) == Type::kWebp);
  CHECK(sniff("%PDF-1.7\n") == Type::kPdf);
  CHECK(sniff("plain text, ünïcode too\n") == Type::kText);
  CHECK(sniff(std::string("\x00\x01\x02\x03", 4)) == Type::kUnknown);
  CHECK(sniff(std::string("\xC3\x28 bad utf-8", 12)) == Type::kUnknown);
  CHECK(sniff("") == Type::kUnknown);
  CHECK(type_of_mime("IMAGE/JPG") == Type::kJpeg);
  CHECK(type_of_mime("image/svg+xml") == Type::kUnknown);
}

TEST_CASE("image_size reads each format's header", "[media]") {
  uint32_t w = 0, h = 0;
  std::string png = make_png(37, 23);
  REQUIRE(image_size(png, Type::kPng, &w, &h));
  CHECK(w == 37);
  CHECK(h == 23);

  std::string gif("GIF89a\x05\x01\x03\x00\x00\x00\x00", 13);
  REQUIRE(image_size(gif, Type::kGif, &w, &h));
  CHECK(w == 261);
  CHECK(h == 3);

  // JPEG: SOI, an APP0 segment, then SOF0 with height 480, width 640.
  std::string jpeg("\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xC0\x00\x0B\x08\x01\xE0\x02\x80\x01\x01",
                   19);
  REQUIRE(image_size(jpeg, Type::kJpeg, &w, &h));
  CHECK(w == 640);
  CHECK(h == 480);

  // WebP lossless (VP8L): 14-bit (width-1), (height-1).
  uint32_t bits = (100 - 1) | ((50 - 1) << 14);
  std::string webp("RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2F", 21);
  for (int i = 0; i < 4; ++i) webp.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  webp.append(8, '\0');
  REQUIRE(image_size(webp, Type::kWebp, &w, &h));
  CHECK(w == 100);
  CHECK(h == 50);

  // WebP extended (VP8X): 24-bit canvas width-1, height-1.
  std::string vp8x("RIFF\x00\x00\x00\x00WEBPVP8X\x0A\x00\x00\x00\x00\x00\x00\x00", 24);
  vp8x += std::string("\x1F\x00\x00\x0F\x00\x00", 6);
  vp8x.append(4, '\0');
  REQUIRE(image_size(vp8x, Type::kWebp, &w, &h));
  CHECK(w == 32);
  CHECK(h == 16);

  CHECK_FALSE(image_size(png.substr(0, 20), Type::kPng, &w, &h));  // truncated header
  CHECK_FALSE(image_size("\xFF\xD8\xFF\xD9", Type::kJpeg, &w, &h));
}

TEST_CASE("base64 decodes both alphabets, with or without padding", "[media]") {
  std::string out;
  REQUIRE(base64_decode("aGVsbG8=", &out));
  CHECK(out == "hello");
  REQUIRE(base64_decode("aGVsbG8", &out));
  CHECK(out == "hello");
  REQUIRE(base64_decode("aGVs\nbG8=\r\n", &out));
  CHECK(out == "hello");
  REQUIRE(base64_decode("-_8=", &out));  // URL-safe
  CHECK(out == "\xfb\xff");
  CHECK_FALSE(base64_decode("aGVsbG8=x", &out));  // data after padding
  CHECK_FALSE(base64_decode("a", &out));          // a lone symbol
  CHECK_FALSE(base64_decode("aGV*", &out));
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  REQUIRE(base64_decode(base64_encode(bytes), &out));
  CHECK(out == bytes);
  CHECK(base64_encode("hello") == "aGVsbG8=");
  CHECK(base64_encode("he") == "aGU=");
}

TEST_CASE("data URLs split into type and payload", "[media]") {
  DataUrl d;
  REQUIRE(parse_data_url("data:image/png;base64,iVBORw0KGgo=", &d));
  CHECK(d.mime == "image/png");
  CHECK(d.payload == "iVBORw0KGgo=");
  REQUIRE(parse_data_url("DATA:text/plain;charset=utf-8;base64,aGk=", &d));
  CHECK(d.mime == "text/plain");
  CHECK_FALSE(parse_data_url("data:text/plain,hello", &d));  // not base64
  CHECK_FALSE(parse_data_url("https://example.com/a.png", &d));
}

TEST_CASE("sha256_hex", "[media]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Alibaba's documented V1 example ("Include a V1 signature in the
// Authorization header"): PUT /nelson to bucket oss-example.
TEST_CASE("OSS V1 signature matches the documented example", "[media][oss]") {
  OssSignInput in;
  in.verb = "PUT";
  in.content_md5 = "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=";
  in.content_type = "text/html";
  in.date = "Thu, 17 Nov 2005 18:49:58 GMT";
  in.headers = {{"X-OSS-Meta-Author", "foo@bar.com"},
                {"X-OSS-Magic", "abracadabra"},
                {"Host", "oss-example.oss-cn-hangzhou.aliyuncs.com"}};
  in.resource = "/oss-example/nelson";
  CHECK(oss_string_to_sign(in) ==
        "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\n"
        "Thu, 17 Nov 2005 18:49:58 GMT\nx-oss-magic:abracadabra\n"
        "x-oss-meta-author:foo@bar.com\n/oss-example/nelson");
  CHECK(oss_signature("OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV", in) ==
        "26NBxoKdsyly4EDv6inkoDft/yA=");
  CHECK(oss_authorization("44CF9590006BF252F707", "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV", in) ==
        "OSS 44CF9590006BF252F707:26NBxoKdsyly4EDv6inkoDft/yA=");
  // The STS token is signed like any x-oss- header.
  in.headers.emplace_back("x-oss-security-token", "CAIStoken");
  CHECK(oss_string_to_sign(in).find("x-oss-security-token:CAIStoken\n") != std::string::npos);
  CHECK(oss_signature("OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV", in) !=
        "26NBxoKdsyly4EDv6inkoDft/yA=");
}

TEST_CASE("http_date is RFC 1123 in GMT", "[media]") {
  CHECK(http_date(1132253398) == "Thu, 17 Nov 2005 18:49:58 GMT");
}
