// HTTP/1.1 server on libuv + http-parser (Debian's libhttp-parser). Shared by
// the frontend and tools/mock-qwen.
//
// Threading: everything runs on the loop passed to the constructor.
//
// Features: keep-alive; pipelining (requests on one connection are answered
// strictly in order: the next request is dispatched only after the previous
// response has ended); chunked request bodies; `Expect: 100-continue`; a
// body size limit (413) and a header size limit (431); an idle timeout for
// keep-alive connections; responses with Content-Length or streamed with
// `Transfer-Encoding: chunked`.
//
// Lifetime: handlers get an Exchange, a cheap copyable reference by id (never
// a pointer) to one request/response on one connection. Every Exchange method
// is safe to call after the client went away: it then does nothing and
// alive() is false.
//
// Re-entrancy: the handler is only ever called from a loop callback, never
// from inside an Exchange method: when respond()/end() runs outside a handler
// and a pipelined request is waiting, it is dispatched on the next loop
// iteration. on_abort likewise never runs inside an Exchange method; it runs
// from a loop callback, or inside Server::close().
//
// Errors the server answers by itself (then closes the connection): 400
// malformed request, 413 body over max_body_bytes (as soon as a declared
// Content-Length is known, before any body byte and instead of 100 Continue),
// 431 headers over max_header_bytes, 505 HTTP major version other than 1,
// 408 a request head or body not received in time (header_timeout_ms,
// body_timeout_ms), 503 over max_connections or max_connections_per_address
// (before reading anything) or over max_buffered_body_bytes (when the head
// ends, before 100 Continue), 500 when the handler throws before responding.
// Every 503 of the server's own carries `Retry-After`. Refusals and
// timeouts are logged as warnings at most once per 10 s each, with the count
// of the ones not logged, never once per connection.
//
// HTTP/1.0 clients: keep-alive only with `Connection: keep-alive`; a streamed
// response has no chunked framing and ends when the connection closes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "common/status.h"

namespace qp::http {

struct Header {
  std::string name;  // lower-case
  std::string value;
};
using Headers = std::vector<Header>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request-target, e.g. "/v1/models?x=1"
  std::string path;    // target up to '?', not percent-decoded
  std::string query;   // after '?', without it; empty if none
  Headers headers;     // names lower-cased, in arrival order
  std::string body;    // de-chunked body
  bool keep_alive = true;
  uint16_t http_major = 1;  // request line version, e.g. 1.0 or 1.1
  uint16_t http_minor = 1;
  uint64_t connection_id = 0;

  // First header with this lower-case name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // Value of a query parameter (not percent-decoded), or empty.
  std::string query_param(std::string_view key) const;
};

class Server;
class Connection;

// Reference to one in-flight request/response. Copyable; all methods are
// no-ops once the exchange has ended or its connection has closed.
class Exchange {
 public:
  Exchange() = default;
  Exchange(Server* server, uint64_t id) : server_(server), id_(id) {}

  uint64_t id() const { return id_; }
  bool alive() const;
  // REQUIRES: alive(). Valid until the response ends or the connection closes.
  const Request& request() const;

  // Response headers: Content-Length, Transfer-Encoding and Connection given
  // by the caller are dropped (the server owns framing), except that
  // `Connection: close` makes the server close after this response. Headers
  // with CR/LF/NUL in the name or value are dropped. For HEAD requests no
  // body is sent; 1xx/204/304 responses never carry one.

  // A complete response with Content-Length. Ends the exchange.
  void respond(int status, Headers headers, std::string body);
  // Starts a streamed response (Transfer-Encoding: chunked); then write()
  // any number of times and end() once. The head is sent immediately.
  void start_stream(int status, Headers headers);
  // Sends one chunk; `data` is moved into the write request, not copied.
  // Returns false if the connection is gone or no stream was started. Empty
  // data is ignored (an empty chunk would end the body) and returns true.
  bool write(std::string data);
  // Writes the terminating chunk and ends the exchange. Without a prior
  // start_stream() this sends an empty streamed 200.
  void end();
  // Ends the exchange at once without finishing the response: the
  // connection is reset (RST; a plain close where a reset is impossible) and
  // unsent bytes are dropped, so the client sees a truncated body and a
  // connection reset, never a clean end. Pipelined requests on the same
  // connection are dropped too. on_abort is not called (the handler chose
  // this). For fault injection (mock-qwen's drop_mid_stream) and for
  // responses that cannot be completed.
  void abort();
  // Called once if the connection closes before the exchange ended (client
  // disconnect or reset, a half-closed client, a write error, server close()).
  // Not called after end()/respond(). Replaces an earlier callback; dropped if
  // the exchange is already over (check alive()).
  void on_abort(std::function<void()> cb);
  // Bytes queued in user space that the kernel has not accepted yet
  // (uv_stream_get_write_queue_size): grows while the client reads slower
  // than we write. 0 once the exchange is over.
  size_t queued_bytes() const;

 private:
  Connection* connection() const;  // nullptr once the exchange is over

  Server* server_ = nullptr;
  uint64_t id_ = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port; read the chosen one from port()
  size_t max_body_bytes = 8 * 1024 * 1024;
  size_t max_header_bytes = 64 * 1024;
  // A connection with no request in flight and no byte of the next one (a
  // fresh connection too) is closed after this.
  uint64_t idle_timeout_ms = 60'000;
  // Slow clients. A request head (request line and headers) must be complete
  // within header_timeout_ms of its first byte. The body must be complete
  // within body_timeout_ms of the end of the head, plus one second per
  // body_min_bytes_per_s bytes of its declared Content-Length (of the bytes
  // received so far for a chunked body, which therefore has to keep up that
  // average rate). Past either deadline: 408 and close. A byte arriving never
  // extends a deadline, and no deadline runs while an earlier pipelined
  // response is in progress (it starts when the server waits for the client
  // again). 0 = no deadline; body_min_bytes_per_s 0 = no allowance for size.
  uint64_t header_timeout_ms = 10'000;
  uint64_t body_timeout_ms = 30'000;
  uint64_t body_min_bytes_per_s = 16 * 1024;
  size_t max_connections = 10'000;
  // Open connections per client address (IPv4 address, IPv6 /64 prefix);
  // 0 = no limit. Loopback clients (127.0.0.0/8, ::1) are exempt while
  // loopback_exempt is set: a local reverse proxy or load generator is many
  // clients behind one address.
  size_t max_connections_per_address = 256;
  bool loopback_exempt = true;
  // Request-body bytes held across all connections before a handler owns
  // them (bodies being received, declared lengths reserved in full, and
  // pipelined requests waiting); 0 = no limit. A body that does not fit
  // gets 503. See body_budget.h.
  size_t max_buffered_body_bytes = 256 * 1024 * 1024;
  // Pipelined requests parsed ahead of the one being answered. When full, the
  // server stops reading that connection until the queue drains.
  size_t max_pipelined_requests = 16;
  // After a response that closes the connection, how long to keep reading
  // (and discarding) client bytes so the kernel does not reset the connection
  // before the client has read the response.
  uint64_t linger_timeout_ms = 2'000;
  int backlog = 511;  // listen(2) backlog
  // Builds the body of the server's own error responses (400 malformed HTTP,
  // 413, 431, 505, 503 too many connections, 500 handler threw). Default:
  // {"error":{"message":...,"type":"invalid_request_error"}} ("server_error"
  // for 5xx). Must not throw (if it does, the default is used).
  std::function<std::string(int status, std::string_view message)> error_body;
  std::string error_content_type = "application/json";
  // Headers added to every response (e.g. Server:).
  Headers default_headers;
};

// Owns the listening socket and every connection. Destroying it closes them
// (like close()); do not destroy it from inside its own handler or callbacks.
class Server {
 public:
  // Called once per request, in order per connection; the next request on a
  // connection waits until this exchange has ended. May respond at once or
  // keep the Exchange and respond later from any callback on the same loop.
  using Handler = std::function<void(Exchange)>;

  Server(uv_loop_t* loop, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds options.host:options.port and listens. The host is an IPv4 or IPv6
  // literal ("127.0.0.1", "::1", "[::1]"); no DNS. Errors (kIo, e.g.
  // "cannot listen on 127.0.0.1:8080: address already in use") name the
  // address and port; a bad host or port gives kInvalidArgument.
  Status listen();
  // Adopts an already listening socket (systemd socket activation). On
  // success the server owns fd (it is closed with the server).
  Status listen_fd(int fd);
  // The bound port (the real one when options.port was 0); 0 before listen.
  int port() const;
  // Graceful drain: closes the listening socket, closes idle keep-alive
  // connections, and lets in-flight exchanges finish; their connections close
  // after the current response. Pair with a deadline, then close().
  void stop_accepting();
  // Stops accepting and closes every connection now (in-flight exchanges get
  // their on_abort callback, synchronously). Safe to call twice, and from a
  // handler or callback. After close() the loop can finish: no handle is left.
  void close();
  // Open connections (including ones finishing their last response).
  size_t connection_count() const;
  // Exchanges dispatched to the handler and not yet ended.
  size_t active_exchange_count() const;
  // Bytes counted against max_buffered_body_bytes now.
  size_t buffered_body_bytes() const;

 private:
  friend class Exchange;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qp::http
