// The upload flow's requests (worker/upload_requests.h): the STS request and
// both answer forms, the signed OSS PUT, and the completion body's content
// items (worker/qwen_requests.h).
#include "worker/upload_requests.h"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "common/media/oss_signature.h"
#include "worker/qwen_requests.h"

using namespace qp::worker;

namespace {

constexpr const char* kFlat =
    R"({"access_key_id":"STS.id","access_key_secret":"sec","security_token":"CAIStok",)"
    R"("file_url":"https://qwen-webui-prod.oss-accelerate.aliyuncs.com/u/1_a.png?Expires=1&Signature=x",)"
    R"("file_path":"u/1_a.png","file_id":"1","bucketname":"qwen-webui-prod","region":"oss-accelerate"})";

std::string header_value(const OssPut& put, std::string_view name) {
  for (const auto& h : put.headers) {
    if (h.rfind(std::string(name) + ": ", 0) == 0) return h.substr(name.size() + 2);
  }
  return "<none>";
}

}  // namespace

TEST_CASE("STS request body and filetype", "[upload]") {
  CHECK(sts_body("a.png", 12345, "image") ==
        R"({"filename":"a.png","filesize":12345,"filetype":"image"})");
  CHECK(sts_filetype("image/png") == "image");
  CHECK(sts_filetype("application/pdf") == "document");
  CHECK(sts_filetype("text/plain") == "file");
  CHECK(endpoint_url(Endpoint::kSts, "https://chat.qwen.ai") ==
        "https://chat.qwen.ai/api/v1/files/getstsToken");
}

TEST_CASE("STS answer: flat and wrapped forms", "[upload]") {
  auto flat = parse_sts(kFlat);
  REQUIRE(flat.has_value());
  CHECK(flat->access_key_id == "STS.id");
  CHECK(flat->access_key_secret == "sec");
  CHECK(flat->security_token == "CAIStok");
  CHECK(flat->file_path == "u/1_a.png");
  CHECK(flat->bucket == "qwen-webui-prod");
  CHECK(flat->region == "oss-accelerate");

  std::string wrapped = std::string(R"({"success":true,"request_id":"r","data":)") + kFlat + "}";
  wrapped.insert(wrapped.size() - 2, R"(,"endpoint":"oss-accelerate.aliyuncs.com")");
  auto w = parse_sts(wrapped);
  REQUIRE(w.has_value());
  CHECK(w->file_url == flat->file_url);
  CHECK(w->endpoint == "oss-accelerate.aliyuncs.com");

  auto refused = parse_sts(R"({"success":false,"data":{"code":"Bad_Request","details":"x"}})");
  REQUIRE_FALSE(refused.has_value());
  auto missing = parse_sts(R"({"access_key_id":"a","access_key_secret":"b"})");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message().find("security_token") != std::string::npos);
  CHECK(missing.error().message().find("\"b\"") == std::string::npos);  // no values
  CHECK_FALSE(parse_sts("not json").has_value());
}

TEST_CASE("OSS PUT: URL and V1 signature with the STS token", "[upload]") {
  auto g = parse_sts(kFlat);
  REQUIRE(g.has_value());
  std::string date = "Thu, 17 Nov 2005 18:49:58 GMT";
  OssPut put = oss_put(*g, "", "image/png", date);
  CHECK(put.url == "https://qwen-webui-prod.oss-accelerate.aliyuncs.com/u/1_a.png");
  CHECK(header_value(put, "x-oss-security-token") == "CAIStok");
  CHECK(header_value(put, "Content-Type") == "image/png");
  CHECK(header_value(put, "Date") == date);
  qp::media::OssSignInput in;
  in.verb = "PUT";
  in.content_type = "image/png";
  in.date = date;
  in.headers = {{"x-oss-security-token", "CAIStok"}};
  in.resource = "/qwen-webui-prod/u/1_a.png";
  CHECK(header_value(put, "Authorization") == qp::media::oss_authorization("STS.id", "sec", in));
  CHECK(header_value(put, "Authorization").rfind("OSS STS.id:", 0) == 0);

  // The override (the mock's stand-in) replaces scheme and host; the signed
  // resource stays /bucket/key.
  OssPut local = oss_put(*g, "http://127.0.0.1:9", "image/png", date);
  CHECK(local.url == "http://127.0.0.1:9/u/1_a.png");
  CHECK(header_value(local, "Authorization") == header_value(put, "Authorization"));

  // The wrapped form's endpoint names the host; CR/LF from the answer never
  // reach a header line.
  g->endpoint = "oss-cn-hangzhou.aliyuncs.com";
  g->security_token = "tok\r\nX-Evil: 1";
  OssPut other = oss_put(*g, "", "image/png", date);
  CHECK(other.url == "https://qwen-webui-prod.oss-cn-hangzhou.aliyuncs.com/u/1_a.png");
  CHECK(header_value(other, "x-oss-security-token") == "tokX-Evil: 1");
}

TEST_CASE("completion body: media as content items after the text", "[upload]") {
  std::vector<MediaItem> media = {{"image", "https://x/a.png"}, {"file", "https://x/b.pdf"}};
  CompletionParams p;
  p.chat_id = "c";
  p.model = "qwen3-max";
  p.content = "look";
  p.media = &media;
  std::string body = completion_body(p);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body);
  simdjson::dom::array content = doc["messages"].at(0)["content"];
  REQUIRE(content.size() == 3);
  CHECK(std::string_view(content.at(0)["type"]) == "text");
  CHECK(std::string_view(content.at(0)["text"]) == "look");
  CHECK(std::string_view(content.at(1)["type"]) == "image");
  CHECK(std::string_view(content.at(1)["image"]) == "https://x/a.png");
  CHECK(std::string_view(content.at(2)["type"]) == "file");
  CHECK(std::string_view(content.at(2)["file"]) == "https://x/b.pdf");
  media.clear();
  body = completion_body(p);
  CHECK(std::string_view(parser.parse(body)["messages"].at(0)["content"]) == "look");
}
