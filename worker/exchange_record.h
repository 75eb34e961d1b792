// One upstream exchange being recorded (docs/recording.md): the request as
// sent, the response's status, allow-listed headers and body or SSE events
// with their timing, serialised at the end as one JSON line. Pure: fed by
// HttpRequest (http_request.h) from libcurl's callbacks, written by
// UpstreamRecorder (upstream_recorder.h). Every value goes through the
// Redactor (record_redact.h) as it is added; finish() scrubs the line once
// more for known secrets.
//
// Line format (version 1), one object per exchange:
//   {"v":1,"t_unix_ms":…,"method":"POST","path":"/api/v2/chat/completions?chat_id=…",
//    "request":{"headers":{"content-type":"application/json",…},"body":{…}},
//    "response":{"status":200,"headers":{"content-type":"text/event-stream"},
//                "events":[{"t_ms":12,"data":{…}},…]   // an SSE response
//                "body":{…} or "…"},                   // any other response
//    "duration_ms":…,"outcome":"complete","truncated":false}
// `data` and `body` are JSON values when they parse as JSON, else strings.
// `t_ms` counts from the start of the request. `outcome`: complete (the
// response ended), stopped (the gateway ended it: stop sequence, cancel,
// shutdown), failed (transport error or timeout; `error` says which).
//
// Memory: at most max_bytes of response data are kept (then `truncated`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "worker/record_redact.h"
#include "worker/sse_parser.h"

namespace qp::worker::record {

class ExchangeRecord {
 public:
  // `headers` are "Name: value" lines; `url` is absolute or a path.
  // `redactor` must outlive the record.
  ExchangeRecord(Redactor* redactor, std::string_view method, std::string_view url,
                 const std::vector<std::string>& headers, std::string_view body,
                 int64_t start_unix_ms, size_t max_bytes);

  // One raw response header line from libcurl (status lines included: a
  // new status line starts a new header block, e.g. after 100 Continue).
  void on_header_line(std::string_view line);
  // Response body bytes, `t_ms` after the start.
  void on_body(std::string_view bytes, uint64_t t_ms);
  // The finished line, '\n'-terminated. `outcome` as above; `error` empty
  // unless failed.
  std::string finish(long status, uint64_t duration_ms, std::string_view outcome,
                     std::string_view error);

  long status() const { return status_; }
  bool is_sse() const { return sse_; }

 private:
  void add_event(std::string_view data, uint64_t t_ms);

  Redactor* redactor_;
  int64_t start_unix_ms_;
  size_t max_bytes_;
  std::string head_;  // "method", "path" and "request" members, serialised
  long status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;  // allow-listed, lower-case
  bool body_started_ = false;
  bool sse_ = false;
  bool truncated_ = false;
  size_t kept_ = 0;
  SseParser parser_;
  std::string events_;  // serialised event objects, comma-separated
  uint64_t last_t_ms_ = 0;
  std::string body_;  // a non-SSE body, raw until finish()
};

// The path and query of an absolute URL ("https://h/p?q" → "/p?q"); a path
// is returned unchanged.
std::string_view url_path(std::string_view url);

}  // namespace qp::worker::record
