// frontend/video_store.h: bounds (entries, TTL) and the Video object.
#include "frontend/video_store.h"

#include <catch2/catch.hpp>

using namespace qp::frontend;

TEST_CASE("VideoStore: find, complete, fail, TTL and the entry bound", "[media]") {
  VideoStore s(2, 1000);
  VideoEntry a;
  a.id = "video_a";
  a.model = "qwen3-max";
  s.add(a, 100);
  REQUIRE(s.find("video_a", 200));
  CHECK(s.find("video_a", 200)->status == "in_progress");
  s.complete("video_a", "https://cdn/v.mp4", 300);
  CHECK(s.find("video_a", 400)->status == "completed");
  CHECK(s.find("video_a", 400)->url == "https://cdn/v.mp4");
  CHECK_FALSE(s.find("video_a", 1100));  // expired
  CHECK_FALSE(s.find("video_x", 200));

  VideoEntry b, c;
  b.id = "video_b";
  c.id = "video_c";
  s.add(b, 500);
  s.add(c, 600);  // over the bound: the oldest (a) goes
  CHECK(s.size() == 2);
  CHECK_FALSE(s.find("video_a", 600));
  s.fail("video_b", "no_video", "nothing", 700);
  auto got = s.find("video_b", 700);
  REQUIRE(got);
  CHECK(got->status == "failed");
  std::string j = video_json(*got);
  CHECK(j.find(R"("status":"failed")") != std::string::npos);
  CHECK(j.find(R"("code":"no_video")") != std::string::npos);
  CHECK(j.find(R"("object":"video")") != std::string::npos);
}
