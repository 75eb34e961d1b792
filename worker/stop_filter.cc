#include "worker/stop_filter.h"

#include <algorithm>

namespace qp::worker {

StopFilter::StopFilter(const std::vector<std::string>& stops) {
  for (const auto& s : stops) {
    if (!s.empty()) stops_.push_back(s);
  }
}

bool StopFilter::feed(std::string_view text, std::string* out) {
  if (stopped_) return true;
  if (stops_.empty()) {
    out->append(text);
    return false;
  }
  held_.append(text);
  std::string_view buf(held_);
  // The match that completes first ends the answer (as a model checking its
  // output after each token would see it); on a tie, the one starting
  // first. This makes the result independent of how the text is split.
  size_t cut = std::string_view::npos;
  size_t cut_end = std::string_view::npos;
  const std::string* match = nullptr;
  for (const auto& s : stops_) {
    size_t pos = buf.find(s);
    if (pos == std::string_view::npos) continue;
    size_t end = pos + s.size();
    if (end < cut_end || (end == cut_end && pos < cut)) {
      cut = pos;
      cut_end = end;
      match = &s;
    }
  }
  if (cut != std::string_view::npos) {
    out->append(buf.substr(0, cut));
    held_.clear();
    held_.shrink_to_fit();
    stopped_ = true;
    matched_ = *match;
    return true;
  }
  // Keep the longest suffix that is a proper prefix of some stop sequence:
  // no match can start before it (none did, and no earlier suffix is a
  // prefix of a stop sequence).
  size_t keep = 0;
  for (const auto& s : stops_) {
    size_t max_len = std::min(s.size() - 1, buf.size());
    for (size_t len = max_len; len > keep; --len) {
      if (buf.substr(buf.size() - len) == std::string_view(s).substr(0, len)) {
        keep = len;
        break;
      }
    }
  }
  out->append(buf.substr(0, buf.size() - keep));
  held_.erase(0, held_.size() - keep);
  return false;
}

void StopFilter::finish(std::string* out) {
  if (stopped_) return;
  out->append(held_);
  held_.clear();
}

}  // namespace qp::worker
