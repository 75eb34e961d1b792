// A server-wide budget for request-body bytes held before a handler owns
// them (internal to common/http). Loop thread only.
//
// What is counted: the body of each request being received (a declared
// Content-Length is reserved in full when the head ends, before any body
// byte; a chunked body is reserved chunk by chunk as each chunk size line
// arrives) and the bodies of parsed requests waiting in a connection's
// pipeline queue. A reservation is released when its request is handed to
// the handler, and when its connection finishes, fails or closes. Bodies of
// requests a handler is answering are the handler's and are not counted.
#pragma once

#include <cstddef>

namespace qp::http {

class BodyBudget {
 public:
  // limit 0 = no limit (reservations always succeed, used() still counts).
  explicit BodyBudget(size_t limit = 0) : limit_(limit) {}

  // Reserves n bytes; false (and nothing reserved) if that would exceed the limit.
  bool try_reserve(size_t n) {
    if (limit_ != 0 && (n > limit_ || used_ > limit_ - n)) return false;
    used_ += n;
    return true;
  }
  // Reserves n bytes even past the limit (a correction, never an admission).
  void force_reserve(size_t n) { used_ += n; }
  // REQUIRES: n bytes were reserved and not yet released.
  void release(size_t n) { used_ = n > used_ ? 0 : used_ - n; }
  size_t used() const { return used_; }
  size_t limit() const { return limit_; }

 private:
  size_t limit_;
  size_t used_ = 0;
};

}  // namespace qp::http
