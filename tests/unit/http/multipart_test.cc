#include "common/http/multipart.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using qp::http::multipart::boundary_of;
using qp::http::multipart::Limits;
using qp::http::multipart::parse;
using qp::http::multipart::Part;

namespace {

// What the openai SDK (undici's FormData) sends for images.edit.
const std::string kBody =
    "------formdata-undici-0123\r\n"
    "Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\r\n\x1a\n--not-a-boundary\r\n"
    "\r\n"
    "------formdata-undici-0123\r\n"
    "Content-Disposition: form-data; name=\"prompt\"\r\n"
    "\r\n"
    "add a hat\r\n"
    "------formdata-undici-0123\r\n"
    "content-disposition: form-data; name=size\r\n"
    "\r\n"
    "\r\n"
    "------formdata-undici-0123--\r\n";
constexpr std::string_view kBoundary = "----formdata-undici-0123";

bool inside(std::string_view view, std::string_view whole) {
  return view.empty() ||
         (view.data() >= whole.data() && view.data() + view.size() <= whole.data() + whole.size());
}

std::string error_of(std::string_view body, const Limits& limits = {}) {
  std::vector<Part> parts;
  qp::Status s = parse(body, kBoundary, &parts, limits);
  if (!s.ok()) CHECK(parts.empty());
  return s.ok() ? std::string("ok") : s.message();
}

}  // namespace

TEST_CASE("multipart: parses the openai SDK's form into views of the body") {
  std::vector<Part> parts;
  REQUIRE(parse(kBody, kBoundary, &parts).ok());
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].name == "image");
  CHECK(parts[0].has_filename);
  CHECK(parts[0].filename == "cat.png");
  CHECK(parts[0].content_type == "image/png");
  CHECK(parts[0].body == std::string_view("\x89PNG\r\n\x1a\n--not-a-boundary\r\n", 26));
  CHECK(parts[1].name == "prompt");
  CHECK_FALSE(parts[1].has_filename);
  CHECK(parts[1].content_type.empty());
  CHECK(parts[1].body == "add a hat");
  CHECK(parts[2].name == "size");  // a token value, header name in lower case
  CHECK(parts[2].body.empty());
  for (const Part& p : parts) {
    CHECK(inside(p.body, kBody));
    CHECK(inside(p.name, kBody));
    CHECK(inside(p.filename, kBody));
  }
}

TEST_CASE("multipart: the boundary from the Content-Type") {
  CHECK(boundary_of("multipart/form-data; boundary=abc").value() == "abc");
  CHECK(boundary_of("Multipart/Form-Data;boundary=\"a b:c\"").value() == "a b:c");
  CHECK(boundary_of("multipart/form-data; charset=utf-8; boundary=x-1 ").value() == "x-1");
  CHECK(boundary_of("multipart/form-data; boundary=abc").value() == "abc");
  auto bad = [](std::string_view ct) {
    auto r = boundary_of(ct);
    REQUIRE_FALSE(r.has_value());
    return r.error().message();
  };
  CHECK_THAT(bad("application/json"), Catch::Contains("not multipart/form-data"));
  CHECK_THAT(bad("multipart/mixed; boundary=a"), Catch::Contains("not multipart/form-data"));
  CHECK_THAT(bad("multipart/form-data"), Catch::Contains("no boundary"));
  CHECK_THAT(bad("multipart/form-data; boundary=a; boundary=b"), Catch::Contains("twice"));
  CHECK_THAT(bad("multipart/form-data; boundary=\"\""), Catch::Contains("1 to 70"));
  CHECK_THAT(bad("multipart/form-data; boundary=\"ab \""), Catch::Contains("1 to 70"));
  CHECK_THAT(bad("multipart/form-data; boundary=" + std::string(71, 'a')),
             Catch::Contains("1 to 70"));
  CHECK(boundary_of("multipart/form-data; boundary=" + std::string(70, 'a')).has_value());
  CHECK_THAT(bad("multipart/form-data; boundary=\"a\\\"b\""), Catch::Contains("RFC 2046"));
  CHECK_THAT(bad("multipart/form-data; boundary=\"abc"), Catch::Contains("not closed"));
  CHECK_THAT(bad("multipart/form-data; boundary"), Catch::Contains("no '='"));
}

TEST_CASE("multipart: every truncation of a valid body is an error, never a crash") {
  for (size_t n = 0; n < kBody.size(); ++n) {
    std::string cut = kBody.substr(0, n);  // own buffer: ASan sees reads past it
    std::vector<Part> parts;
    qp::Status s = parse(cut, kBoundary, &parts);
    // Only dropping the final CRLF keeps it valid.
    if (n == kBody.size() - 2) {
      CHECK(s.ok());
      CHECK(parts.size() == 3);
    } else {
      INFO("length " << n);
      CHECK_FALSE(s.ok());
      CHECK(parts.empty());
      CHECK_FALSE(s.message().empty());
    }
  }
}

TEST_CASE("multipart: clear errors for malformed bodies") {
  const std::string b = "--" + std::string(kBoundary);
  const std::string cd = "Content-Disposition: form-data; name=\"a\"\r\n";
  CHECK_THAT(error_of("preamble\r\n" + b + "\r\n" + cd + "\r\nx\r\n" + b + "--"),
             Catch::Contains("does not start with its boundary"));
  CHECK_THAT(error_of(b + "--"), Catch::Contains("no parts"));
  CHECK_THAT(error_of(b + "junk\r\n" + cd + "\r\nx\r\n" + b + "--"),
             Catch::Contains("junk after a multipart boundary"));
  CHECK(error_of(b + " \t\r\n" + cd + "\r\nx\r\n" + b + "-- \r\n") == "ok");  // padding
  CHECK_THAT(error_of(b + "\r\n" + cd + "\r\nx\r\n" + b + "--epilogue"),
             Catch::Contains("after the multipart close delimiter"));
  CHECK_THAT(error_of(b + "\r\n" + cd + "\r\nx\r\n" + b + "X\r\n"),
             Catch::Contains("junk after a multipart boundary"));
  CHECK_THAT(error_of(b + "\r\n\r\nx\r\n" + b + "--"), Catch::Contains("no Content-Disposition"));
  CHECK_THAT(error_of(b + "\r\nContent-Type: text/plain\r\n\r\nx\r\n" + b + "--"),
             Catch::Contains("part 1: no Content-Disposition"));
  CHECK_THAT(error_of(b + "\r\n" + cd + cd + "\r\nx\r\n" + b + "--"), Catch::Contains("twice"));
  CHECK_THAT(error_of(b + "\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n" + b + "--"),
             Catch::Contains("not form-data"));
  CHECK_THAT(error_of(b + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n" + b + "--"),
             Catch::Contains("has no name"));
  CHECK_THAT(
      error_of(b + "\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n" + b + "--"),
      Catch::Contains("name given twice"));
  CHECK_THAT(error_of(b + "\r\n" + cd + " folded\r\n\r\nx\r\n" + b + "--"),
             Catch::Contains("folded"));
  CHECK_THAT(error_of(b + "\r\n" + cd + "no colon\r\n\r\nx\r\n" + b + "--"),
             Catch::Contains("'Name: value'"));
  CHECK_THAT(error_of(b + "\r\n" + cd + "X: a\x01z\r\n\r\nx\r\n" + b + "--"),
             Catch::Contains("control byte"));
  CHECK_THAT(error_of(b + "\r\n" + cd + "\r\nx\r\n" + b + "\r\n" + cd + "\r\ny"),
             Catch::Contains("part 2: no multipart delimiter"));
  CHECK_THAT(error_of(b + "\r\n" + cd + "\r\nx\r\n" + b + "\r\n" + cd),
             Catch::Contains("part 2: the body ends inside the part's headers"));
  // A boundary must be followed by padding and CRLF, or "--": a longer
  // line that starts with the boundary inside a body is an error.
  CHECK_THAT(error_of(b + "\r\n" + cd + "\r\nx\r\n" + b + "0 inside\r\n" + b + "--"),
             Catch::Contains("junk"));
  // Bodies hold anything but the delimiter: "\r\n--" and a near-boundary.
  CHECK(error_of(b + "\r\n" + cd + "\r\n\r\n--\r\n-" + b + "\r\n" + b + "--") == "ok");
}

TEST_CASE("multipart: bounds on parts and header bytes") {
  const std::string b = "--" + std::string(kBoundary);
  std::string body;
  for (int i = 0; i < 3; ++i) body += b + "\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n";
  body += b + "--\r\n";
  Limits two;
  two.max_parts = 2;
  CHECK_THAT(error_of(body, two), Catch::Contains("more than 2 multipart parts"));
  Limits three;
  three.max_parts = 3;
  CHECK(error_of(body, three) == "ok");

  std::string huge =
      b + "\r\nContent-Disposition: form-data; name=p\r\nX-Pad: " + std::string(10000, 'a') +
      "\r\n\r\nv\r\n" + b + "--";
  CHECK_THAT(error_of(huge), Catch::Contains("headers longer than 8192 bytes"));
  // Without the blank line, the search stops at the bound too.
  std::string endless =
      b + "\r\nContent-Disposition: form-data; name=p\r\nX: " + std::string(100000, 'a');
  CHECK_THAT(error_of(endless), Catch::Contains("headers longer than"));
}

TEST_CASE("multipart: parameters") {
  const std::string b = "--" + std::string(kBoundary);
  std::vector<Part> parts;
  std::string body =
      b +
      "\r\nContent-Disposition: form-data ; filename=\"a \\\" b.png\";name=\"image[]\" "
      "; filename*=UTF-8''x.png;\r\nContent-Type:  image/webp \r\n\r\nX\r\n" +
      b + "--";
  REQUIRE(parse(body, kBoundary, &parts).ok());
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].name == "image[]");
  CHECK(parts[0].filename == "a \\\" b.png");  // escapes left as written
  CHECK(parts[0].content_type == "image/webp");
  CHECK(parts[0].body == "X");
  CHECK(parse(b + "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nX\r\n" + b + "--", kBoundary,
              &parts)
            .message()
            .find("not closed") != std::string::npos);
}
