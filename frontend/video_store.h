// The asynchronous form of POST /v1/videos (docs/api.md "Images and
// video"): video id -> the task's state, read by GET /v1/videos/{id}.
//
// Frontend memory (docs/architecture.md "Where state lives"): lost on a
// restart (a client then gets 404 and creates the video again), not shared
// between frontends (a GET must reach the frontend that took the POST).
// Bounded: at most max_entries (the oldest are dropped first) and each
// entry lives ttl_ms after its creation (Qwen's signed URLs expire too).
// Pure: time is passed in. Not thread-safe: the frontend's loop only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace qp::frontend {

struct VideoEntry {
  std::string id;  // "video_<hex>"
  std::string model;
  std::string size;                    // Qwen's ratio
  std::string status = "in_progress";  // in_progress | completed | failed
  std::string url;                     // completed
  std::string error_code;              // failed
  std::string error_message;           // failed
  std::string owner;                   // the client key's id (only it may read the entry)
  int64_t created_unix_ms = 0;
  int64_t completed_unix_ms = 0;
};

class VideoStore {
 public:
  static constexpr size_t kDefaultMaxEntries = 1000;
  static constexpr int64_t kDefaultTtlMs = 24 * 3600 * 1000;

  explicit VideoStore(size_t max_entries = kDefaultMaxEntries, int64_t ttl_ms = kDefaultTtlMs)
      : max_entries_(max_entries == 0 ? 1 : max_entries), ttl_ms_(ttl_ms) {}

  // Adds the entry (evicting expired and, beyond the bound, the oldest).
  void add(VideoEntry e, int64_t now_unix_ms);
  // The entry if present and not expired.
  std::optional<VideoEntry> find(std::string_view id, int64_t now_unix_ms);
  void complete(std::string_view id, std::string url, int64_t now_unix_ms);
  void fail(std::string_view id, std::string code, std::string message, int64_t now_unix_ms);
  size_t size() const { return entries_.size(); }

 private:
  void evict(int64_t now_unix_ms);

  size_t max_entries_;
  int64_t ttl_ms_;
  std::unordered_map<std::string, VideoEntry> entries_;
  std::deque<std::string> order_;  // ids by creation time (oldest first)
};

// The OpenAI Video object for an entry: {"id","object":"video","model",
// "status","progress","created_at","completed_at","size","seconds",
// "error"} plus the extension "qwen_url" (the video's URL when completed;
// OpenAI serves the bytes at /content, which the gateway does not).
std::string video_json(const VideoEntry& e);

}  // namespace qp::frontend
