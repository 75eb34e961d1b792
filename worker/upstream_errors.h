// Classification of upstream failures (docs/upstream.md, "Upstream behaviour →
// client action → client-visible result"): turns an error body, an HTTP status
// or a libcurl result into the Code, the client-safe message, the Retry-After
// and the account health the worker reports. Pure: no I/O; unit-tested with
// every body shape the spec lists.
//
// Messages never contain cookies or tokens: they are built from our own
// text plus the upstream's short `code`/`details` strings, truncated and
// passed through log::mask_secrets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::worker {

struct UpstreamFailure {
  Code code = Code::kUpstream;
  std::string message;
  int64_t retry_after_s = 0;         // > 0: tell the client when to retry
  const char* health = nullptr;      // protocol::kHealth*; nullptr: leave the health unchanged
  const char* error_code = nullptr;  // OpenAI error `code` for the client; nullptr: derived
};

// True if `body` contains an Alibaba WAF / captcha marker (GO's list plus
// the baxia punish markers), compared case-insensitively.
bool has_waf_marker(std::string_view body);

// Classifies a response that is not a usable success: an HTTP status other
// than 200, a body that is not an event stream, or the JSON payload of an
// error event found inside a stream (pass http_status 200 for those).
// Order: WAF markers (any status), then the JSON envelope variants
// (`{success:false,data:{code,details,num}}`, `{code,detail}`,
// `{error:{code,message}}`, `data.error`), then the HTTP status.
UpstreamFailure classify_response(long http_status, std::string_view content_type,
                                  std::string_view body);

// A JSON response carrying any error marker: success:false, a non-null
// `error`, or a top-level `code`. Used to vet 200 JSON bodies and events.
bool is_error_json(std::string_view body);

// Failures of the transport itself. `limit` is the timeout in ms that fired,
// or the byte limit for kTooLarge.
enum class TransportFailure {
  kConnect,           // DNS, TCP or TLS failure before any response byte
  kConnectTimeout,    // no connection within connect_timeout_ms
  kFirstByteTimeout,  // connected, no response body within first_byte_timeout_ms
  kIdleTimeout,       // the stream stalled for idle_timeout_ms
  kDropped,           // the connection broke after the response started
  kTooLarge,          // a non-streaming body exceeded our buffer limit
};
UpstreamFailure classify_transport(TransportFailure kind, uint64_t limit, std::string_view detail);

// "An EOF before `finished`": the stream ended without the answer's end.
UpstreamFailure stream_ended_early();

}  // namespace qp::worker
