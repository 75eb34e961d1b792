// Images and files in requests (frontend/attachments): the OpenAI chat
// parser's image_url / file parts, the limits, sniffing over labels, and the
// vision refusal.
#include "frontend/attachments/attachments.h"

#include <catch2/catch.hpp>

#include "common/media/media.h"
#include "frontend/openai/chat_request.h"

using namespace qp;
using namespace qp::frontend;

namespace {

std::string png_bytes(uint32_t w, uint32_t h) {
  std::string p("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", 16);
  for (uint32_t v : {w, h}) {
    for (int i = 3; i >= 0; --i) p.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  p += std::string("\x08\x02\x00\x00\x00\x00\x00\x00\x00", 9);
  return p;
}

std::string data_url(std::string_view mime, std::string_view bytes) {
  return "data:" + std::string(mime) + ";base64," + media::base64_encode(bytes);
}

std::string chat_body(const std::string& parts, const std::string& model = "qwen3-max") {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":[)" + parts + "]}]}";
}

std::string image_part(const std::string& url) {
  return R"({"type":"image_url","image_url":{"url":")" + url + R"(","detail":"low"}})";
}

}  // namespace

TEST_CASE("chat: image_url parts become attachments with sniffed type and size", "[attachments]") {
  ChatRequestParser p;
  ChatRequest r;
  ApiError err;
  std::string png = png_bytes(37, 23);
  REQUIRE(p.parse(
      chat_body(R"({"type":"text","text":"what?"},)" + image_part(data_url("image/jpeg", png)) +
                "," + R"({"type":"image_url","image_url":"https://e.com/a.png"})"),
      &r, &err));
  const auto& m = r.job.messages[0];
  CHECK(m.content == "what?");
  REQUIRE(m.attachments.size() == 2);
  CHECK(m.attachments[0].kind == "image");
  CHECK(m.attachments[0].mime == "image/png");  // the bytes, not the label
  CHECK(m.attachments[0].width == 37);
  CHECK(m.attachments[0].height == 23);
  CHECK(m.attachments[0].bytes.data == png);
  CHECK(m.attachments[0].digest == media::sha256_hex(png));
  CHECK(m.attachments[0].name == "image.png");
  CHECK(m.attachments[1].url == "https://e.com/a.png");
  CHECK(m.attachments[1].bytes.empty());
  CHECK(attachments::has_images(r.job));
}

TEST_CASE("chat: file parts, and refusals with codes and params", "[attachments]") {
  ChatRequestParser p;
  ChatRequest r;
  ApiError err;
  REQUIRE(p.parse(chat_body(R"({"type":"file","file":{"filename":"r.pdf","file_data":")" +
                            data_url("application/pdf", "%PDF-1.4\n") + R"("}})"),
                  &r, &err));
  REQUIRE(r.job.messages[0].attachments.size() == 1);
  CHECK(r.job.messages[0].attachments[0].kind == "file");
  CHECK(r.job.messages[0].attachments[0].mime == "application/pdf");
  CHECK(r.job.messages[0].attachments[0].name == "r.pdf");
  CHECK_FALSE(attachments::has_images(r.job));

  AttachmentsConfig small;
  small.max_image_bytes = 100;
  small.max_images = 1;
  small.types = {"image/png"};
  p.set_attachments(small);
  auto refuse = [&](const std::string& body, const char* code) {
    ApiError e;
    ChatRequest out;
    CHECK_FALSE(p.parse(body, &out, &e));
    CHECK(e.code == Code::kInvalidArgument);
    CHECK(e.error_code == code);
    return e;
  };
  ApiError e =
      refuse(chat_body(image_part(data_url("image/png", png_bytes(1, 1) + std::string(200, 'x')))),
             "image_too_large");
  CHECK(e.param == "messages[0].content[0]");
  refuse(chat_body(image_part(data_url("image/png", png_bytes(1, 1))) + "," +
                   image_part(data_url("image/png", png_bytes(1, 1)))),
         "too_many_images");
  // A GIF is a real image type, but not an accepted one here.
  e = refuse(chat_body(image_part(data_url("image/gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00"))),
             "unsupported_image_type");
  CHECK(e.message.find("image/gif") != std::string::npos);
  CHECK(e.message.find("Accepted: image/png") != std::string::npos);
  refuse(chat_body(image_part("data:image/png;base64,***")), "invalid_image");
  refuse(chat_body(image_part("file:///etc/passwd")), "invalid_image_url");
  // Images only in user messages.
  ApiError role;
  ChatRequest out;
  CHECK_FALSE(p.parse(R"({"model":"m","messages":[{"role":"system","content":[)" +
                          image_part("https://e.com/a.png") + "]}]}",
                      &out, &role));
  CHECK(role.message.find("only accepted in user messages") != std::string::npos);
}

TEST_CASE("vision_refusal names the models that see images", "[attachments]") {
  protocol::ModelList list;
  list.models.push_back({"qwen3-max", "", "qwen", 0, 0, 0, {"search", "vision"}});
  list.models.push_back({"qwen3-vl-plus", "", "qwen", 0, 0, 0, {"thinking", "vision"}});
  list.models.push_back({"text-only", "", "qwen", 0, 0, 0, {"document"}});
  CHECK(attachments::vision_refusal(list, "qwen3-max").empty());
  CHECK(attachments::vision_refusal(list, "unknown").empty());  // 404 is someone else's job
  std::string why = attachments::vision_refusal(list, "text-only");
  CHECK(why ==
        "The model 'text-only' does not accept images. Models that do: qwen3-max, qwen3-vl-plus.");
}
