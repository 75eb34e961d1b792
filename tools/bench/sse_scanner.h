// Incremental classifier for the event streams the load generator reads:
// OpenAI chat.completion.chunk SSE (the gateway) and Qwen web SSE (the mock).
// Pure: no I/O, no clock. The connection feeds de-chunked body bytes in any
// split and gets one EventKind per complete event (blank-line terminated).
//
// Classification is by cheap substring tests, not a JSON parse, so the
// generator stays light next to the processes it measures:
//   - `data: [DONE]`                          -> kDone
//   - `data: {"error"...`                      -> kError
//   - a `"status": "finished"` (Qwen, either spacing) -> kFinished
//   - a non-empty `content` or `reasoning_content` string -> kContent
//   - anything else (role chunk, response.created, usage, comments) -> kOther
// Lines end with "\n" (both servers); "\r\n" line ends are accepted too.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qp::bench {

enum class EventKind { kOther, kContent, kFinished, kDone, kError };

// Receives the events of one feed() call, in order.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(EventKind kind) = 0;
};

// Classifies one complete event (its lines, without the blank line).
EventKind classify_event(std::string_view event);

class SseScanner {
 public:
  // Events larger than this are classified from their first max_event_bytes
  // (the rest is dropped); the stream stays in sync.
  explicit SseScanner(size_t max_event_bytes = 1 << 20);

  void feed(std::string_view data, EventSink* sink);
  // Bytes of an unterminated event held back (0 between events).
  size_t pending_bytes() const { return pending_.size(); }
  void reset();

 private:
  void append_capped(std::string_view piece);

  std::string pending_;  // the current event's bytes seen so far (capped)
  size_t max_event_bytes_;
  char last_ = '\0';  // the last two bytes fed, for boundaries split across calls
  char last2_ = '\0';
};

}  // namespace qp::bench
