// The mock's image (t2i) and video (t2v) chat types (docs/mock-qwen.md
// "Images and video"; the upstream shapes in docs/upstream.md "Images and
// video"):
//
//   t2i completion (SSE): response.created; an image_gen typing delta with
//     empty content; after image_delay_ms the image_gen delta whose content
//     is the image URL and whose extra.image_list[0] = {image: URL, width,
//     height}; an image_gen finished delta; the answer's finished delta.
//   image_edit completion (SSE): as t2i; the image is W×H of the request's
//     size, or with no size the first input image's own W×H (clamped to
//     1..64), and its URL's query names what the mock received:
//     `&source=<description of each input image>` ("image/png 37x23",
//     percent-encoded, joined by ",").
//   t2v completion (stream:false): the 2025-10 JSON envelope whose message
//     has extra.wanx.task_id; GET /api/v1/tasks/status/<id> answers
//     {"success":true,"data":{"task_status":"running"|"success","content":
//     URL}}: running until video_duration_ms after the task started.
//   GET /cdn/mock-media/img-<n>-<W>x<H>.png: a valid W×H PNG (the size's
//     aspect ratio: 1:1 → 8x8, 16:9 → 16x9, 9:16 → 9x16, 4:3 → 8x6,
//     3:4 → 6x8), so a client can check the bytes; …/vid-<n>.mp4: a few
//     placeholder bytes (video/mp4). The URLs carry fake Expires/Signature
//     query parameters like Qwen's signed CDN URLs.
// Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/http/server.h"
#include "tools/mock-qwen/delay_queue.h"
#include "tools/mock-qwen/ids.h"

namespace qp::mock {

// A W×H RGB PNG (stored deflate blocks), W and H in 1..64.
std::string mock_png(uint32_t width, uint32_t height);
// The PNG dimensions the mock uses for a Qwen size ("1:1" if unknown).
void mock_png_dims(std::string_view size, uint32_t* width, uint32_t* height);
// The top-level `size` of a completion body; empty if none.
std::string completion_size(std::string_view body);

struct MediaCompletion {
  std::string chat_type;  // "t2i" | "t2v" | "image_edit"
  std::string chat_id;
  std::string user_message_id;
  std::string response_id;
  std::string size;
  std::string owner;
  int64_t image_delay_ms = 0;
  int64_t video_duration_ms = 0;
  // image_edit: the input images' descriptions ("image/png 37x23") and the
  // first one's size, for an edit without `size`.
  std::vector<std::string> sources = {};
  uint32_t source_width = 0;
  uint32_t source_height = 0;
};

class MediaMock {
 public:
  static constexpr size_t kMaxTasks = 1000;

  MediaMock(IdGenerator* ids, DelayQueue* delays) : ids_(ids), delays_(delays) {}

  // Answers an accepted t2i / t2v completion.
  void respond(http::Exchange& ex, const MediaCompletion& c, int64_t now_ms);
  // GET /api/v1/tasks/status/<id> of `owner`.
  void task_status(http::Exchange& ex, std::string_view task_id, const std::string& owner,
                   int64_t now_ms);
  // GET /cdn/mock-media/<file>.
  void serve_file(http::Exchange& ex, std::string_view file);

 private:
  struct Task {
    std::string owner;
    std::string url;
    int64_t ready_ms = 0;
  };
  std::string base_url(const http::Exchange& ex) const;

  IdGenerator* ids_;
  DelayQueue* delays_;
  uint64_t seq_ = 0;
  std::unordered_map<std::string, Task> tasks_;
  std::deque<std::string> task_order_;
};

}  // namespace qp::mock
