// frontend/openai/media_request.h: size mapping and request validation.
#include "frontend/openai/media_request.h"

#include <catch2/catch.hpp>

using namespace qp::frontend;

TEST_CASE("qwen_aspect_ratio: Qwen's ratios, exact WxH, OpenAI's named sizes", "[media]") {
  for (const char* r : {"1:1", "16:9", "9:16", "4:3", "3:4"}) CHECK(qwen_aspect_ratio(r) == r);
  CHECK(qwen_aspect_ratio("1024x1024") == "1:1");
  CHECK(qwen_aspect_ratio("256x256") == "1:1");
  CHECK(qwen_aspect_ratio("1280x720") == "16:9");
  CHECK(qwen_aspect_ratio("720x1280") == "9:16");
  CHECK(qwen_aspect_ratio("1024x768") == "4:3");
  CHECK(qwen_aspect_ratio("768x1024") == "3:4");
  CHECK(qwen_aspect_ratio("1792x1024") == "16:9");
  CHECK(qwen_aspect_ratio("1024x1792") == "9:16");
  CHECK(qwen_aspect_ratio("1536x1024") == "4:3");
  CHECK(qwen_aspect_ratio("1024x1536") == "3:4");
  CHECK(qwen_aspect_ratio("auto") == "1:1");
  for (const char* bad : {"", "2:1", "21:9", "1000x1001", "0x0", "x", "1024x", "1024X1024", "-1x-1",
                          "99999999x99999999", "1:1 "})
    CHECK_FALSE(qwen_aspect_ratio(bad).has_value());
}

TEST_CASE("parse_image_request: defaults, bounds and errors", "[media]") {
  MediaRequest r;
  ApiError e;
  REQUIRE(parse_image_request(R"({"prompt":"a fox"})", &r, &e));
  CHECK(r.prompt == "a fox");
  CHECK(r.size == "1:1");
  CHECK(r.n == 1);
  CHECK(r.response_format == "url");
  REQUIRE(parse_image_request(
      R"({"prompt":"p","model":"dall-e-3","n":2,"size":"1792x1024","response_format":"b64_json","quality":"hd"})",
      &r, &e));
  CHECK(r.size == "16:9");
  CHECK(r.n == 2);
  CHECK(r.response_format == "b64_json");
  CHECK(r.model == "dall-e-3");

  CHECK_FALSE(parse_image_request(R"({"prompt":"p","size":"640x480x2"})", &r, &e));
  CHECK(e.param == "size");
  CHECK(e.code == qp::Code::kInvalidArgument);
  CHECK_FALSE(parse_image_request(R"({"prompt":"p","n":5})", &r, &e));
  CHECK(e.param == "n");
  CHECK_FALSE(parse_image_request(R"({"prompt":"p","response_format":"png"})", &r, &e));
  CHECK(e.param == "response_format");
  CHECK_FALSE(parse_image_request(R"({"n":1})", &r, &e));
  CHECK(e.param == "prompt");
  CHECK_FALSE(parse_image_request(R"({"prompt":""})", &r, &e));
  CHECK_FALSE(parse_image_request(R"({"prompt":7})", &r, &e));
  CHECK_FALSE(parse_image_request("{", &r, &e));
  CHECK_FALSE(parse_image_request(R"({"prompt":"p","stream":true})", &r, &e));
  CHECK(e.param == "stream");
  CHECK(parse_image_request(R"({"prompt":"p","stream":false})", &r, &e));
}

TEST_CASE("parse_video_request: sizes, stream, seconds ignored", "[media]") {
  MediaRequest r;
  ApiError e;
  REQUIRE(parse_video_request(R"({"prompt":"waves","size":"720x1280","seconds":"4","stream":true})",
                              &r, &e));
  CHECK(r.size == "9:16");
  CHECK(r.stream);
  REQUIRE(parse_video_request(R"({"prompt":"waves","size":"4:3"})", &r, &e));
  CHECK_FALSE(r.stream);
  CHECK_FALSE(parse_video_request(R"({"prompt":"waves","size":"2:1"})", &r, &e));
  CHECK(e.param == "size");
}
