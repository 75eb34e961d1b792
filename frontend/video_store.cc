#include "frontend/video_store.h"

#include "common/json/writer.h"

namespace qp::frontend {

void VideoStore::evict(int64_t now_unix_ms) {
  while (!order_.empty()) {
    auto it = entries_.find(order_.front());
    bool expired = it == entries_.end() || now_unix_ms - it->second.created_unix_ms >= ttl_ms_;
    if (!expired && entries_.size() < max_entries_) break;
    if (it != entries_.end()) entries_.erase(it);
    order_.pop_front();
  }
}

void VideoStore::add(VideoEntry e, int64_t now_unix_ms) {
  evict(now_unix_ms);
  e.created_unix_ms = now_unix_ms;
  std::string id = e.id;
  if (entries_.insert_or_assign(id, std::move(e)).second) order_.push_back(std::move(id));
}

std::optional<VideoEntry> VideoStore::find(std::string_view id, int64_t now_unix_ms) {
  auto it = entries_.find(std::string(id));
  if (it == entries_.end() || now_unix_ms - it->second.created_unix_ms >= ttl_ms_)
    return std::nullopt;
  return it->second;
}

void VideoStore::complete(std::string_view id, std::string url, int64_t now_unix_ms) {
  auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return;
  it->second.status = "completed";
  it->second.url = std::move(url);
  it->second.completed_unix_ms = now_unix_ms;
}

void VideoStore::fail(std::string_view id, std::string code, std::string message,
                      int64_t now_unix_ms) {
  auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return;
  it->second.status = "failed";
  it->second.error_code = std::move(code);
  it->second.error_message = std::move(message);
  it->second.completed_unix_ms = now_unix_ms;
}

std::string video_json(const VideoEntry& e) {
  std::string out;
  json::Writer w(&out);
  w.begin_object();
  w.field("id", e.id).field("object", "video").field("model", e.model);
  w.field("status", e.status);
  w.field("progress", static_cast<int64_t>(e.status == "in_progress" ? 0 : 100));
  w.field("created_at", e.created_unix_ms / 1000);
  if (e.completed_unix_ms > 0) {
    w.field("completed_at", e.completed_unix_ms / 1000);
  } else {
    w.field_null("completed_at");
  }
  w.field("size", e.size);
  w.field_null("seconds");
  if (e.status == "failed") {
    w.key("error").begin_object().field("code", e.error_code).field("message", e.error_message);
    w.end_object();
  } else {
    w.field_null("error");
  }
  if (!e.url.empty()) w.field("qwen_url", e.url);
  w.end_object();
  return out;
}

}  // namespace qp::frontend
