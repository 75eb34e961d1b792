// The request bodies of POST /v1/images/generations (OpenAI's
// CreateImageRequest) and POST /v1/videos (OpenAI's CreateVideoRequest
// shape), validated into what a media job needs (docs/api.md "Images and
// video"). Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend {

// Qwen's aspect ratios for a requested size, or nullopt (400):
//   "1:1" "16:9" "9:16" "4:3" "3:4" as such;
//   "WxH" whose ratio is exactly one of them (1024x1024, 1280x720, 720x1280,
//   1024x768, 768x1024, 256x256, 512x512, ...);
//   OpenAI's named sizes that are not exact, mapped to the nearest:
//   1792x1024 → 16:9, 1024x1792 → 9:16 (dall-e-3), 1536x1024 → 4:3,
//   1024x1536 → 3:4 (gpt-image-1), "auto" → 1:1.
std::optional<std::string_view> qwen_aspect_ratio(std::string_view size);

inline constexpr size_t kMaxMediaPromptBytes = 32'000;

struct MediaRequest {
  std::string model;  // empty: the gateway picks one that can
  std::string prompt;
  std::string size;             // Qwen's ratio (qwen_aspect_ratio), "1:1" if not given
  int32_t n = 1;                // images only: 1..kMaxImagesPerJob
  std::string response_format;  // images only: "url" | "b64_json"
  bool stream = false;          // videos only: the blocking SSE form
  std::string user;
  // /v1/images/edits only: the images to edit (sniffed, bounded).
  std::vector<protocol::Attachment> images;
};

// POST /v1/images/generations. Unknown fields (quality, style, background,
// output_format, ...) are ignored.
bool parse_image_request(std::string_view body, MediaRequest* out, ApiError* err);
// POST /v1/videos: prompt, model, size, seconds (ignored: Qwen decides) and
// the extension `stream` (true: the blocking SSE form).
bool parse_video_request(std::string_view body, MediaRequest* out, ApiError* err);

}  // namespace qp::frontend
