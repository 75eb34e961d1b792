// Incremental HTTP/1.1 request parser: an adapter from http-parser 2.9
// (Debian's libhttp-parser) to http::Request. No I/O: the connection feeds it
// bytes and gets back complete requests or an error status, so every framing
// rule (chunked bodies, limits, pipelining, 100-continue) is unit-tested here.
//
// feed() stops after each complete request (it pauses http-parser inside
// on_message_complete), so the caller decides whether to parse ahead.
// Limits: header bytes (request line + header lines) over max_header_bytes
// give 431; a declared Content-Length over max_body_bytes gives 413 as soon
// as the headers end (before any body byte), a chunked body growing past it
// gives 413 when it crosses the limit; anything http-parser rejects gives 400;
// an HTTP major version other than 1 gives 505.
//
// Body budget (optional, set_body_budget): a declared Content-Length is
// reserved in full when the head ends, a chunk when its size line arrives,
// both before any of those bytes are buffered; a reservation the budget
// cannot grant gives 503. The parser holds the reservation of the request
// being read; take_request() hands it to the caller (it equals the body's
// size), and an error or release_body_reservation() gives it back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <http_parser.h>

#include "common/http/body_budget.h"
#include "common/http/server.h"

namespace qp::http {

class RequestParser {
 public:
  enum class Event : uint8_t {
    kNeedMore,  // every byte consumed, no complete request yet
    kRequest,   // a request is complete: take_request()
    kError,     // malformed or over a limit: error_status(), error_message()
  };
  struct Step {
    size_t consumed = 0;
    Event event = Event::kNeedMore;
  };

  RequestParser(size_t max_header_bytes, size_t max_body_bytes);
  // Does not release a reservation: call release_body_reservation() first
  // (the budget may be gone by the time the parser is destroyed).
  ~RequestParser() = default;
  // http_parser.data points at this object.
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses from the front of `data`. After an error, or after a request that
  // ends the connection (no keep-alive, or an Upgrade/CONNECT request), the
  // parser is finished(): it consumes and ignores every further byte.
  Step feed(std::string_view data);
  // REQUIRES: the last feed() returned kRequest. Moves the request out; the
  // caller now holds its body reservation (body.size() bytes of the budget).
  Request take_request();

  // Reserve body bytes from `budget` (nullptr = none). Set before feeding.
  void set_body_budget(BodyBudget* budget) { budget_ = budget; }
  // Gives back the reservation of the request being read (idempotent).
  void release_body_reservation();
  size_t reserved_body_bytes() const { return reserved_; }

  int error_status() const { return error_status_; }  // 400, 413, 431, 503, 505; 0 if none
  const std::string& error_message() const { return error_message_; }
  bool finished() const { return state_ == State::kFinished; }
  // True while bytes of an unfinished request have been seen.
  bool mid_request() const { return state_ == State::kHeaders || state_ == State::kBody; }
  // True while the head (request line, headers) of a request is being read.
  bool in_head() const { return state_ == State::kHeaders; }
  // True while the body of a request is being read (after its head).
  bool in_body() const { return state_ == State::kBody; }
  // In the body: the declared Content-Length, or kUnknownLength (chunked).
  static constexpr uint64_t kUnknownLength = UINT64_MAX;
  uint64_t declared_body_bytes() const { return declared_length_; }
  // Body bytes of the request being read received so far.
  size_t body_bytes() const { return req_.body.size(); }
  // True when the request being read carries `Expect: 100-continue`, its
  // headers are complete and no body byte has arrived: the server should send
  // `100 Continue` (once; then call continue_sent()).
  bool wants_continue() const {
    return state_ == State::kBody && expect_continue_ && !body_started_ && !continue_sent_;
  }
  void continue_sent() { continue_sent_ = true; }

 private:
  enum class State : uint8_t { kIdle, kHeaders, kBody, kComplete, kFinished };

  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, size_t len);
  static int on_header_field(http_parser* p, const char* at, size_t len);
  static int on_header_value(http_parser* p, const char* at, size_t len);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, size_t len);
  static int on_chunk_header(http_parser* p);
  static int on_message_complete(http_parser* p);
  static const http_parser_settings kSettings;

  bool count_header_bytes(size_t n);
  bool reserve_body(uint64_t n);
  int fail(int status, std::string message);
  void finish_headers();

  http_parser parser_{};
  size_t max_header_bytes_;
  size_t max_body_bytes_;
  State state_ = State::kIdle;
  Request req_;
  size_t header_bytes_ = 0;
  uint64_t declared_length_ = kUnknownLength;
  BodyBudget* budget_ = nullptr;
  size_t reserved_ = 0;    // budget bytes held for req_
  bool in_value_ = false;  // last header callback was a value
  bool expect_continue_ = false;
  bool body_started_ = false;
  bool continue_sent_ = false;
  bool last_request_ = false;  // the completed request ends the connection
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace qp::http
