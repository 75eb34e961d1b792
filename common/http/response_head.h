// Serialises response status lines, headers and chunk framing. Pure logic,
// no I/O: the connection appends into a reused buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/server.h"

namespace qp::http {

// How the body of a response is delimited.
enum class Framing : uint8_t {
  kContentLength,  // Content-Length: <n>
  kChunked,        // Transfer-Encoding: chunked
  kNone,           // no framing header: no body (204/304), or close-delimited (HTTP/1.0 stream)
};

// What the Connection header says.
enum class ConnectionHeader : uint8_t {
  kNone,       // HTTP/1.1 keep-alive: implied
  kKeepAlive,  // HTTP/1.0 client that asked for keep-alive
  kClose,      // the server closes after this response
};

struct HeadSpec {
  int status = 200;
  Framing framing = Framing::kContentLength;
  uint64_t content_length = 0;
  ConnectionHeader connection = ConnectionHeader::kNone;
};

// Appends "HTTP/1.1 <status> <reason>\r\n", then `headers`, then the entries
// of `defaults` whose name is not in `headers`, then the framing and
// Connection headers, then the blank line. Caller headers named
// Content-Length, Transfer-Encoding or Connection are dropped (the server
// owns framing), as are headers whose name or value holds CR, LF or NUL (no
// response splitting). Names are written as given.
void append_response_head(std::string* out, const HeadSpec& spec, const Headers& headers,
                          const Headers& defaults);

// Reason phrase for a status ("OK", "Not Found"); "Unknown" if none.
std::string_view reason_phrase(int status);

// 1xx, 204 and 304 responses never carry a body (RFC 9110 6.4.1).
bool status_allows_body(int status);

// True if the caller's headers ask to close the connection (Connection: close).
bool asks_to_close(const Headers& headers);

// Writes "<hex size>\r\n" into out; returns its length.
constexpr size_t kChunkSizeLineMax = 2 * sizeof(size_t) + 2;
size_t format_chunk_size_line(size_t size, char* out);

// The default ServerOptions::error_body:
// {"error":{"message":"...","type":"invalid_request_error"}} (type
// "server_error" for 5xx other than 505).
std::string default_error_body(int status, std::string_view message);

}  // namespace qp::http
