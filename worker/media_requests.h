// The requests and answers of Qwen's image (t2i) and video (t2v) chat types
// (docs/upstream.md "Images and video"). Pure: no I/O, every shape
// unit-tested.
//
//   t2i: chats/new with chat_type "t2i", then a streamed completion whose
//        `image_gen` phase carries the image URL in
//        delta.extra.image_list[].image (R21), or as the delta's content.
//   t2v: chats/new with chat_type "t2v", then a completion with
//        stream:false (GO) whose JSON names a task id (somewhere under
//        data: extra.wanx.task_id in the sources), then
//        GET /api/v1/tasks/status/<id> until the task ends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/qwen_requests.h"

namespace qp::worker {

// The largest image or video the worker downloads for b64_json.
inline constexpr size_t kMaxMediaDownloadBytes = 20u << 20;

struct MediaParams {
  std::string_view chat_id;
  std::string_view model;      // upstream model id (variant suffix removed)
  std::string_view chat_type;  // "t2i" | "t2v" | "image_edit"
  std::string_view prompt;
  // "1:1", "16:9", ...; empty: "1:1", except for image_edit, where no
  // `size` is sent (Qwen keeps the input's proportions: assumed).
  std::string_view size;
  // image_edit: the uploaded images (upload_call.h); `content` is then the
  // array [{"type":"text","text":prompt}, {"type":"image","image":url}…].
  const std::vector<MediaItem>* images = nullptr;
  std::string_view fid;
  std::string_view child_id;
  int64_t timestamp_s = 0;
};
// POST /api/v2/chat/completions?chat_id= for t2i and image_edit
// (stream:true) and t2v (stream:false): the chat body with the media chat
// type and the top-level `size`.
std::string media_completion_body(const MediaParams& p);

// What one SSE event of a t2i stream says.
struct MediaEvent {
  std::vector<std::string> urls;  // image URLs (image_list, or an image_gen URL content)
  std::string task_id;            // extra.wanx.task_id, if the stream names one
  bool finished = false;          // the answer's finished delta (end of the reply)
  bool error = false;             // an error event (classify the data)
};
// Parses one event's data. Events that are not JSON or carry no choices
// (response.created, keep-alives) give an empty MediaEvent.
MediaEvent parse_media_event(std::string_view data);

// The task id in a t2v completion answer: the first string `task_id` at
// any depth (at most 8 levels) of the JSON; kUpstream if none.
Result<std::string> parse_video_task(std::string_view body);

struct TaskStatus {
  enum class State : uint8_t { kRunning, kSucceeded, kFailed };
  State state = State::kRunning;
  std::string url;      // kSucceeded: the video URL
  std::string message;  // kFailed: the upstream's reason (short, safe)
};
// GET /api/v1/tasks/status/<id>: `task_status` (or `status`) at the top
// level or under `data`; "success"/"succeeded"/"completed"/"finished" (any
// case) → kSucceeded with the URL from `content`, `video_url` or `url`;
// "failed"/"error"/"canceled"/"cancelled" → kFailed; anything else
// running. A success without a URL is a failure. kUpstream: not JSON.
Result<TaskStatus> parse_task_status(std::string_view body);

// Standard base64 (RFC 4648 section 4, padded), for b64_json.
std::string base64_encode(std::string_view bytes);

// The markdown a chat answer carries for a generated image or video.
std::string media_markdown(std::string_view kind, std::string_view url);

}  // namespace qp::worker
