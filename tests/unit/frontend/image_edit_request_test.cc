// frontend/openai/image_edit_request.h: the multipart body of
// POST /v1/images/edits into a media request and its images.
#include "frontend/openai/image_edit_request.h"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using namespace qp::frontend;

namespace {

// The smallest PNG header image_size() reads: 3 x 2.
const std::string kPng =
    std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x03\0\0\0\x02\x08\x02\0\0\0", 29) +
    std::string(8, '\0');
constexpr std::string_view kType = "multipart/form-data; boundary=XyZ";

// (name, filename or "" for a text field, content)
using Field = std::tuple<std::string, std::string, std::string>;
std::string form(const std::vector<Field>& fields) {
  std::string out;
  for (const auto& [name, file, body] : fields) {
    out += "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"";
    if (!file.empty()) out += "; filename=\"" + file + "\"\r\nContent-Type: image/jpeg";
    out += "\r\n\r\n" + body + "\r\n";
  }
  return out + "--XyZ--\r\n";
}

struct Outcome {
  bool ok;
  MediaRequest r;
  std::vector<qp::protocol::Attachment> images;
  ApiError e;
};
Outcome parse(const std::string& body, std::string_view type = kType) {
  qp::AttachmentsConfig limits;
  limits.max_image_bytes = 1000;
  limits.max_images = 2;
  Outcome o;
  o.ok = parse_image_edit_request(type, body, limits, &o.r, &o.images, &o.e);
  return o;
}

}  // namespace

TEST_CASE("parse_image_edit_request: fields, defaults and the images", "[media]") {
  auto o = parse(form({{"image", "a.jpg", kPng}, {"prompt", "", "add a hat"}}));
  REQUIRE(o.ok);
  CHECK(o.r.prompt == "add a hat");
  CHECK(o.r.size.empty());  // Qwen keeps the input's proportions
  CHECK(o.r.n == 1);
  CHECK(o.r.response_format == "url");
  REQUIRE(o.images.size() == 1);
  CHECK(o.images[0].kind == "image");
  CHECK(o.images[0].mime == "image/png");  // sniffed, not the part's image/jpeg
  CHECK(o.images[0].name == "a.jpg");
  CHECK(o.images[0].width == 3);
  CHECK(o.images[0].height == 2);
  CHECK(o.images[0].bytes.data == kPng);

  o = parse(form({{"image[]", "a.png", kPng},
                  {"image[]", "b.png", kPng},
                  {"prompt", "", "p"},
                  {"n", "", "3"},
                  {"size", "", "1024x1536"},
                  {"response_format", "", "b64_json"},
                  {"model", "", "qwen3-max"},
                  {"user", "", "u1"},
                  {"quality", "", "high"},
                  {"stream", "", "false"}}));
  REQUIRE(o.ok);
  CHECK(o.images.size() == 2);
  CHECK(o.r.n == 3);
  CHECK(o.r.size == "3:4");
  CHECK(o.r.response_format == "b64_json");
  CHECK(o.r.model == "qwen3-max");
  CHECK(o.r.user == "u1");
  CHECK(parse(form({{"image", "a.png", kPng}, {"prompt", "", "p"}, {"size", "", "auto"}}))
            .r.size.empty());
}

TEST_CASE("parse_image_edit_request: OpenAI-shaped 400s", "[media]") {
  auto fails = [](const std::string& body, std::string_view type = kType) {
    auto o = parse(body, type);
    REQUIRE_FALSE(o.ok);
    CHECK(http_status(o.e) == 400);
    CHECK_FALSE(o.e.message.empty());
    return std::make_pair(o.e.param, o.e.error_code);
  };
  const Field img{"image", "a.png", kPng};
  const Field prompt{"prompt", "", "p"};
  using P = std::pair<std::string, std::string>;
  CHECK(fails(form({prompt})) == P{"image", ""});
  CHECK(fails(form({img})) == P{"prompt", ""});
  CHECK(fails(form({img, {"prompt", "", ""}})) == P{"prompt", ""});
  CHECK(fails(form({{"image", "a.png", "plain text"}, prompt})) ==
        P{"image", "unsupported_image_type"});
  CHECK(fails(form({{"image", "a.png", ""}, prompt})) == P{"image", "invalid_image"});
  CHECK(fails(form({{"image", "a.png", kPng + std::string(1000, 'x')}, prompt})) ==
        P{"image", "image_too_large"});
  CHECK(fails(form({img, img, img, prompt})) == P{"image", "too_many_images"});
  CHECK(fails(form({img, prompt, {"mask", "m.png", kPng}})) == P{"mask", "unsupported_parameter"});
  CHECK(fails(form({img, prompt, {"size", "", "2:1"}})).first == "size");
  CHECK(fails(form({img, prompt, {"n", "", "5"}})).first == "n");
  CHECK(fails(form({img, prompt, {"n", "", "1x"}})).first == "n");
  CHECK(fails(form({img, prompt, {"response_format", "", "webp"}})).first == "response_format");
  CHECK(fails(form({img, prompt, {"stream", "", "true"}})).first == "stream");
  CHECK(fails(form({img, prompt, prompt})).first == "prompt");  // twice
  CHECK(fails(form({img, prompt}), "application/json") == P{"", "invalid_content_type"});
  CHECK(fails(form({img, prompt}), "multipart/form-data") == P{"", "invalid_content_type"});
  std::string cut = form({img, prompt});
  cut.resize(cut.size() - 12);
  CHECK(fails(cut) == P{"", "invalid_multipart"});
}
