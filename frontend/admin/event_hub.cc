#include "frontend/admin/event_hub.h"

#include <vector>

#include "frontend/admin/render.h"

namespace qp::frontend::admin {

uint64_t EventHub::add(std::unique_ptr<EventSink> sink, std::string first) {
  uint64_t id = next_id_++;
  if (!sink->send(std::move(first))) return id;  // gone already: never added
  sinks_.emplace(id, std::move(sink));
  return id;
}

void EventHub::broadcast(const std::string& bytes) {
  std::vector<uint64_t> dead;
  for (auto& [id, sink] : sinks_) {
    if (sink->backlog() > max_backlog_) {
      sink->close();
      dead.push_back(id);
    } else if (!sink->send(bytes)) {
      dead.push_back(id);
    }
  }
  for (uint64_t id : dead) sinks_.erase(id);
}

void EventHub::publish(std::string_view type, std::string_view json) {
  if (sinks_.empty()) return;
  buf_.clear();
  append_sse_event(&buf_, type, json);
  broadcast(buf_);
}

void EventHub::ping() {
  if (!sinks_.empty()) broadcast(": ping\n\n");
}

void EventHub::close_all() {
  auto sinks = std::move(sinks_);
  sinks_.clear();
  for (auto& [id, sink] : sinks) sink->close();
}

}  // namespace qp::frontend::admin
