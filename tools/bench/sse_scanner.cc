#include "tools/bench/sse_scanner.h"

namespace qp::bench {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// The payload of the event's first `data:` line, without the optional space.
std::string_view first_data(std::string_view event) {
  size_t pos = 0;
  while (pos < event.size()) {
    size_t end = event.find('\n', pos);
    if (end == std::string_view::npos) end = event.size();
    std::string_view line = event.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (starts_with(line, "data:")) {
      std::string_view d = line.substr(5);
      if (!d.empty() && d.front() == ' ') d.remove_prefix(1);
      // Multi-line data: classify from the first line onwards (the rest of
      // the event), which holds every key we look for.
      return event.substr(static_cast<size_t>(d.data() - event.data()));
    }
    pos = end + 1;
  }
  return {};
}

// True if some `content":` key (also matches `reasoning_content":`) has a
// non-empty string value.
bool has_content(std::string_view data) {
  static constexpr std::string_view kKey = "content\":";
  size_t pos = 0;
  while ((pos = data.find(kKey, pos)) != std::string_view::npos) {
    pos += kKey.size();
    while (pos < data.size() && data[pos] == ' ') ++pos;
    if (pos + 1 < data.size() && data[pos] == '"' && data[pos + 1] != '"') return true;
  }
  return false;
}

bool is_finished(std::string_view data) {
  return data.find("\"status\": \"finished\"") != std::string_view::npos ||
         data.find("\"status\":\"finished\"") != std::string_view::npos;
}

}  // namespace

EventKind classify_event(std::string_view event) {
  std::string_view data = first_data(event);
  if (data.empty()) return EventKind::kOther;
  if (starts_with(data, "[DONE]")) return EventKind::kDone;
  if (starts_with(data, "{\"error\"")) return EventKind::kError;
  if (is_finished(data)) return EventKind::kFinished;
  if (has_content(data)) return EventKind::kContent;
  return EventKind::kOther;
}

SseScanner::SseScanner(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {
  pending_.reserve(4096);
}

void SseScanner::reset() {
  pending_.clear();
  last_ = last2_ = '\0';
}

void SseScanner::append_capped(std::string_view piece) {
  size_t room = max_event_bytes_ > pending_.size() ? max_event_bytes_ - pending_.size() : 0;
  pending_.append(piece.substr(0, room));
}

void SseScanner::feed(std::string_view data, EventSink* sink) {
  size_t start = 0;  // start of the current event within data
  char p1 = last_;
  char p2 = last2_;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (c == '\n' && (p1 == '\n' || (p1 == '\r' && p2 == '\n'))) {
      std::string_view piece = data.substr(start, i + 1 - start);
      std::string_view event = piece;
      if (!pending_.empty()) {
        append_capped(piece);
        event = pending_;
      }
      // Extra blank lines between events are not events.
      if (event.find_first_not_of("\r\n") != std::string_view::npos && sink != nullptr) {
        sink->on_event(classify_event(event));
      }
      pending_.clear();
      start = i + 1;
    }
    p2 = p1;
    p1 = c;
  }
  if (start < data.size()) append_capped(data.substr(start));
  last_ = p1;
  last2_ = p2;
}

}  // namespace qp::bench
