// worker/media_requests.h: the t2i / t2v request body, the image_gen event
// parsing, the video task answer and status shapes, base64.
#include "worker/media_requests.h"

#include <catch2/catch.hpp>
#include <simdjson.h>

using namespace qp::worker;

TEST_CASE("media_completion_body: t2i streams, t2v asks for a task; chat_type and size",
          "[media]") {
  MediaParams p;
  p.chat_id = "c1";
  p.model = "qwen3-max";
  p.chat_type = "t2i";
  p.prompt = "a \"red\" fox";
  p.size = "16:9";
  p.fid = "f";
  p.child_id = "k";
  p.timestamp_s = 7;
  std::string body = media_completion_body(p);
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(body);
  CHECK(bool(root["stream"]) == true);
  CHECK(std::string_view(root["size"]) == "16:9");
  CHECK(std::string_view(root["chat_id"]) == "c1");
  auto msg = root["messages"].at(0);
  CHECK(std::string_view(msg["chat_type"]) == "t2i");
  CHECK(std::string_view(msg["sub_chat_type"]) == "t2i");
  CHECK(std::string_view(msg["extra"]["meta"]["subChatType"]) == "t2i");
  CHECK(std::string_view(msg["content"]) == "a \"red\" fox");
  CHECK(std::string_view(msg["feature_config"]["output_schema"]) == "phase");

  p.chat_type = "t2v";
  p.size = {};
  std::string v = media_completion_body(p);
  simdjson::dom::parser parser2;
  simdjson::dom::element r2 = parser2.parse(v);
  CHECK(bool(r2["stream"]) == false);
  CHECK(std::string_view(r2["size"]) == "1:1");
  CHECK(std::string_view(r2["messages"].at(0)["chat_type"]) == "t2v");
}

TEST_CASE("media_completion_body: image_edit sends the uploaded images as content items",
          "[media]") {
  std::vector<MediaItem> images = {{"image", "https://oss/a.png?x=1"}, {"image", "https://oss/b"}};
  MediaParams p;
  p.chat_id = "c1";
  p.model = "qwen3-max";
  p.chat_type = "image_edit";
  p.prompt = "add a hat";
  p.images = &images;
  p.fid = "f";
  p.child_id = "k";
  std::string body = media_completion_body(p);
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(body);
  CHECK(bool(root["stream"]) == true);
  CHECK(root["size"].error() == simdjson::NO_SUCH_FIELD);  // no size: Qwen keeps the input's
  auto msg = root["messages"].at(0);
  CHECK(std::string_view(msg["chat_type"]) == "image_edit");
  CHECK(std::string_view(msg["sub_chat_type"]) == "image_edit");
  CHECK(std::string_view(msg["extra"]["meta"]["subChatType"]) == "image_edit");
  simdjson::dom::array content = msg["content"];
  REQUIRE(content.size() == 3);
  CHECK(std::string_view(content.at(0)["type"]) == "text");
  CHECK(std::string_view(content.at(0)["text"]) == "add a hat");
  CHECK(std::string_view(content.at(1)["type"]) == "image");
  CHECK(std::string_view(content.at(1)["image"]) == "https://oss/a.png?x=1");
  CHECK(std::string_view(content.at(2)["image"]) == "https://oss/b");

  p.size = "4:3";
  std::string sized = media_completion_body(p);
  simdjson::dom::parser parser2;
  CHECK(std::string_view(parser2.parse(sized)["size"]) == "4:3");
}

TEST_CASE("parse_media_event: image_list, URL content, finished, errors", "[media]") {
  auto ev = parse_media_event(
      R"({"choices": [{"delta": {"role": "assistant", "content": "", "phase": "image_gen", "status": "typing", "extra": {"image_list": [{"image": "https://cdn.qwenlm.ai/a.png?x=1"}]}}}]})");
  REQUIRE(ev.urls.size() == 1);
  CHECK(ev.urls[0] == "https://cdn.qwenlm.ai/a.png?x=1");
  CHECK_FALSE(ev.finished);

  ev = parse_media_event(
      R"({"choices":[{"delta":{"role":"assistant","content":"https://cdn.qwenlm.ai/b.png","phase":"image_gen","status":"typing"}}]})");
  REQUIRE(ev.urls.size() == 1);
  CHECK(ev.urls[0] == "https://cdn.qwenlm.ai/b.png");

  // Text in the answer phase is not an image, even when it looks like a URL.
  ev = parse_media_event(
      R"({"choices":[{"delta":{"role":"assistant","content":"https://x","phase":"answer","status":"typing"}}]})");
  CHECK(ev.urls.empty());
  // Not a URL scheme we fetch.
  ev = parse_media_event(
      R"({"choices":[{"delta":{"content":"","phase":"image_gen","extra":{"image_list":[{"image":"file:///etc/passwd"}]}}}]})");
  CHECK(ev.urls.empty());

  ev = parse_media_event(
      R"({"choices": [{"delta": {"content": "", "role": "assistant", "status": "finished", "phase": "answer"}}]})");
  CHECK(ev.finished);
  ev = parse_media_event(
      R"({"choices":[{"delta":{"content":"","role":"assistant","status":"finished","phase":"image_gen"}}]})");
  CHECK_FALSE(ev.finished);  // the phase's own end, not the reply's

  ev = parse_media_event(R"({"choices":[{"delta":{"extra":{"wanx":{"task_id":"t-1"}}}}]})");
  CHECK(ev.task_id == "t-1");
  CHECK(parse_media_event(R"({"error":{"code":"internal_error","message":"x"}})").error);
  CHECK(parse_media_event(R"({"response.created":{"chat_id":"c"}})").urls.empty());
  CHECK(parse_media_event("not json").urls.empty());
}

TEST_CASE("parse_video_task: a task_id at any depth", "[media]") {
  auto t = parse_video_task(
      R"({"success":true,"data":{"messages":[{"role":"assistant","extra":{"wanx":{"task_id":"abc"}}}]}})");
  REQUIRE(t);
  CHECK(t.value() == "abc");
  CHECK(parse_video_task(R"({"success":true,"data":{"task_id":"t2"}})").value() == "t2");
  CHECK_FALSE(parse_video_task(R"({"success":true,"data":{}})"));
  CHECK_FALSE(parse_video_task("<html>"));
}

TEST_CASE("parse_task_status: running, success with URL, failure", "[media]") {
  auto s = parse_task_status(R"({"success":true,"data":{"task_status":"running"}})");
  REQUIRE(s);
  CHECK(s.value().state == TaskStatus::State::kRunning);
  s = parse_task_status(
      R"({"success":true,"data":{"task_status":"success","content":"https://cdn/v.mp4"}})");
  REQUIRE(s);
  CHECK(s.value().state == TaskStatus::State::kSucceeded);
  CHECK(s.value().url == "https://cdn/v.mp4");
  s = parse_task_status(R"({"task_status":"SUCCEEDED","video_url":"https://cdn/w.mp4"})");
  CHECK(s.value().url == "https://cdn/w.mp4");
  s = parse_task_status(R"({"data":{"task_status":"success"}})");
  CHECK(s.value().state == TaskStatus::State::kFailed);  // no URL
  s = parse_task_status(R"({"data":{"task_status":"failed","message":"moderation"}})");
  CHECK(s.value().state == TaskStatus::State::kFailed);
  CHECK(s.value().message == "moderation");
  CHECK_FALSE(parse_task_status("nope"));
}

TEST_CASE("base64_encode and media_markdown", "[media]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode(std::string("\x89PNG\r\n\x1a\n", 8)) == "iVBORw0KGgo=");
  CHECK(media_markdown("image", "https://a/b c(1).png") == "![image](https://a/b%20c%281%29.png)");
  CHECK(media_markdown("video", "https://a/v.mp4") == "[video](https://a/v.mp4)");
}
