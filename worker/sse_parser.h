// Incremental Server-Sent Events parser (the WHATWG "event stream" grammar,
// reduced to what an SSE client of the Qwen web API needs): bytes go in with
// feed() in arbitrary splits, complete events' `data` payloads come out of
// next(). Pure: no I/O, no allocation per event in the common case.
//
// Grammar handled:
//   - line terminators "\n", "\r\n" and a lone "\r" (even when the "\r" and
//     "\n" of one terminator arrive in different feeds);
//   - `data:` fields, with one optional space after the colon; several
//     `data` lines in one event are joined with "\n";
//   - comment lines (leading ':') and other fields (`event`, `id`, `retry`,
//     unknown names) are ignored;
//   - an empty line dispatches the event; an event with no `data` line is
//     dropped;
//   - at end of input (finish()) an unterminated last line is processed and
//     a pending event is dispatched even without its trailing blank line
//     (the real upstream closes the body right after its last event).
//
// Memory is bounded: a line or an event longer than max_event_bytes puts the
// parser in a permanent error state instead of growing without limit.
//
// Usage:
//   parser.feed(bytes);
//   std::string_view data;
//   while (parser.next(&data)) use(data);   // data valid until the next feed/next
//   if (!parser.status().ok()) fail();
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::worker {

class SseParser {
 public:
  static constexpr size_t kDefaultMaxEventBytes = 8 * 1024 * 1024;

  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  // Appends input. Invalidates the view returned by the last next().
  void feed(std::string_view bytes);
  // Marks end of input: the rest of the buffer is a final line/event.
  void finish();
  // Returns the data of the next complete event, or false when more input
  // is needed, the input is finished and drained, or an error occurred
  // (see status()). *data stays valid until the next call to feed() or next().
  bool next(std::string_view* data);

  const Status& status() const { return status_; }
  bool finished() const { return eof_; }
  // Bytes held for an incomplete line (for tests and diagnostics).
  size_t buffered_bytes() const { return buffer_.size() - pos_; }

 private:
  // Handles one complete line; returns true if it dispatched an event.
  bool on_line(std::string_view line, std::string_view* data);
  bool dispatch(std::string_view* data);
  void fail(std::string message);

  size_t max_event_bytes_;
  std::string buffer_;  // unconsumed input starts at pos_
  size_t pos_ = 0;
  size_t scanned_ = 0;  // bytes after pos_ already known to hold no line terminator
  bool bom_checked_ = false;
  bool skip_lf_ = false;  // the last line ended with '\r': a leading '\n' belongs to it
  bool eof_ = false;
  // The current event's data. A single `data` line is kept as a view into
  // buffer_ (no copy); a second line moves it into data_buf_.
  bool has_data_ = false;
  bool data_in_buf_ = false;
  std::string_view data_view_;
  std::string data_buf_;
  Status status_;
};

}  // namespace qp::worker
