#include "worker/sse_parser.h"

#include <cstring>

namespace qp::worker {
namespace {

// The first '\r' or '\n' at or after `from`, or npos. Two memchr calls per
// line (std::string::find_first_of calls memchr once per byte scanned).
size_t find_eol(const std::string& s, size_t from) {
  if (from >= s.size()) return std::string::npos;
  const char* begin = s.data() + from;
  size_t n = s.size() - from;
  const void* lf = std::memchr(begin, '\n', n);
  size_t limit = lf != nullptr ? static_cast<size_t>(static_cast<const char*>(lf) - begin) : n;
  const void* cr = std::memchr(begin, '\r', limit);
  if (cr != nullptr) return from + static_cast<size_t>(static_cast<const char*>(cr) - begin);
  return lf != nullptr ? from + limit : std::string::npos;
}

}  // namespace

void SseParser::feed(std::string_view bytes) {
  if (!status_.ok() || eof_ || bytes.empty()) return;
  // A pending single-line event still points into buffer_: keep it alive
  // across the compaction below (only when an event spans two feeds).
  if (has_data_ && !data_in_buf_) {
    data_buf_.assign(data_view_);
    data_in_buf_ = true;
  }
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  if (!bom_checked_) {
    // A UTF-8 byte order mark at the very start of the stream is ignored.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    buffer_.append(bytes);
    if (buffer_.size() < kBom.size() && kBom.substr(0, buffer_.size()) == buffer_) return;
    bom_checked_ = true;
    if (buffer_.compare(0, kBom.size(), kBom) == 0) buffer_.erase(0, kBom.size());
    scanned_ = 0;  // counted the BOM's bytes (or none of these new ones): rescan
    return;
  }
  buffer_.append(bytes);
}

void SseParser::finish() { eof_ = true; }

void SseParser::fail(std::string message) {
  status_ = error(Code::kUpstream, std::move(message));
  buffer_.clear();
  pos_ = 0;
  scanned_ = 0;
  has_data_ = false;
}

bool SseParser::next(std::string_view* data) {
  while (status_.ok()) {
    if (skip_lf_ && pos_ < buffer_.size()) {
      if (buffer_[pos_] == '\n') ++pos_;
      skip_lf_ = false;
    }
    size_t i = find_eol(buffer_, pos_ + scanned_);
    if (i == std::string::npos) {
      size_t pending = buffer_.size() - pos_;
      if (!eof_) {
        scanned_ = pending;
        if (pending > max_event_bytes_) {
          fail("upstream SSE line longer than " + std::to_string(max_event_bytes_) + " bytes");
        }
        return false;
      }
      if (pending > 0) {  // unterminated last line
        std::string_view line(buffer_.data() + pos_, pending);
        pos_ = buffer_.size();
        scanned_ = 0;
        if (on_line(line, data)) return true;
        continue;
      }
      return has_data_ && dispatch(data);  // final event without a blank line
    }
    std::string_view line(buffer_.data() + pos_, i - pos_);
    scanned_ = 0;
    if (buffer_[i] == '\r') {
      if (i + 1 < buffer_.size()) {
        pos_ = i + 1 + (buffer_[i + 1] == '\n' ? 1 : 0);
      } else {
        pos_ = i + 1;
        skip_lf_ = true;  // its '\n' may come with the next feed
      }
    } else {
      pos_ = i + 1;
    }
    if (on_line(line, data)) return true;
  }
  return false;
}

bool SseParser::on_line(std::string_view line, std::string_view* data) {
  if (line.empty()) return has_data_ && dispatch(data);
  if (line.front() == ':') return false;  // comment (keep-alive)
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  if (field != "data") return false;  // event, id, retry and unknown fields
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (!has_data_) {
    has_data_ = true;
    data_in_buf_ = false;
    data_view_ = value;
    return false;
  }
  if (!data_in_buf_) {
    data_buf_.assign(data_view_);
    data_in_buf_ = true;
  }
  if (data_buf_.size() + 1 + value.size() > max_event_bytes_) {
    fail("upstream SSE event larger than " + std::to_string(max_event_bytes_) + " bytes");
    return false;
  }
  data_buf_.push_back('\n');
  data_buf_.append(value);
  return false;
}

bool SseParser::dispatch(std::string_view* data) {
  *data = data_in_buf_ ? std::string_view(data_buf_) : data_view_;
  has_data_ = false;
  return true;
}

}  // namespace qp::worker
