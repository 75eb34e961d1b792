// What the operator's console (metrics, admin API, live events) learns about
// each API request the frontend serves. ChatCall (and the frontend's early
// rejections) report to one RequestObserver; RequestObservers fans out.
//
// Contract:
//  - on_start once per request that was admitted and sent to the broker;
//    on_end exactly once for every request reported by on_start, and also
//    for requests rejected before that (then without on_start: record.chunks
//    is 0 and start_ns is the time the request was read).
//  - on_first_content at most once, before on_end, when the first CHUNK with
//    text or tool calls arrives.
//  - Called on the frontend's loop thread; observers must not block and must
//    not call back into the request. The record's views are valid only for
//    the duration of the call.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"

namespace qp::frontend {

inline uint64_t steady_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

struct RequestRecord {
  std::string id;
  std::string_view endpoint;  // a static route name, e.g. "/v1/chat/completions"
  std::string model;          // empty if the request was rejected before it was parsed
  std::string key;            // client key name ("" = no key / the single api_key)
  std::string account;        // account that served it, once known (DONE)
  bool stream = false;
  int64_t start_unix_ms = 0;
  uint64_t start_ns = 0;          // steady clock (steady_now_ns)
  uint64_t first_content_ns = 0;  // 0: no content yet
  uint64_t chunks = 0;            // CHUNKs with content or tool calls so far
};

struct RequestOutcome {
  int http_status = 200;        // 499: the client went away
  std::string_view error_type;  // OpenAI error type; empty = success
  std::string_view error_code;  // OpenAI error code, if any
  std::string_view message;     // the client-visible error message (never a secret)
  std::string_view finish_reason;
  const protocol::Usage* usage = nullptr;  // Qwen's usage, when the job reported it
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_start(const RequestRecord&) {}
  virtual void on_first_content(const RequestRecord&) {}
  virtual void on_end(const RequestRecord&, const RequestOutcome&) {}
};

// Forwards to every added observer, in order. Observers must outlive it.
class RequestObservers final : public RequestObserver {
 public:
  void add(RequestObserver* o) { list_.push_back(o); }
  void on_start(const RequestRecord& r) override {
    for (auto* o : list_) o->on_start(r);
  }
  void on_first_content(const RequestRecord& r) override {
    for (auto* o : list_) o->on_first_content(r);
  }
  void on_end(const RequestRecord& r, const RequestOutcome& out) override {
    for (auto* o : list_) o->on_end(r, out);
  }

 private:
  std::vector<RequestObserver*> list_;
};

}  // namespace qp::frontend
