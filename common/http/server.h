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
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  uint64_t connection_id = 0;

  // First header with this lower-case name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // Value of a query parameter (not percent-decoded), or empty.
  std::string query_param(std::string_view key) const;
};

class Server;

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

  // A complete response with Content-Length. Ends the exchange.
  void respond(int status, Headers headers, std::string body);
  // Starts a streamed response (Transfer-Encoding: chunked); then write()
  // any number of times and end() once.
  void start_stream(int status, Headers headers);
  // Sends one chunk. Returns false if the connection is gone. Empty data is
  // ignored (an empty chunk would end the body).
  bool write(std::string data);
  // Writes the terminating chunk and ends the exchange.
  void end();
  // Called once if the connection closes before the exchange ended (client
  // disconnect, reset, server shutdown). Not called after end()/respond().
  void on_abort(std::function<void()> cb);
  // Bytes written to the socket but not yet flushed by the kernel.
  size_t queued_bytes() const;

 private:
  Server* server_ = nullptr;
  uint64_t id_ = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port; read the chosen one from port()
  size_t max_body_bytes = 8 * 1024 * 1024;
  size_t max_header_bytes = 64 * 1024;
  uint64_t idle_timeout_ms = 60'000;   // keep-alive connection with no request in flight
  size_t max_connections = 10'000;
  // Builds the body of the server's own error responses (400 malformed HTTP,
  // 413, 431, 503 too many connections). Default: a small JSON object.
  std::function<std::string(int status, std::string_view message)> error_body;
  std::string error_content_type = "application/json";
  // Headers added to every response (e.g. Server:).
  Headers default_headers;
};

class Server {
 public:
  using Handler = std::function<void(Exchange)>;

  Server(uv_loop_t* loop, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. On EADDRINUSE the message names the port.
  Status listen();
  // Adopts an already listening socket (systemd socket activation).
  Status listen_fd(int fd);
  int port() const;
  // Stops accepting and closes every connection (in-flight exchanges get their
  // on_abort callback). Safe to call twice.
  void close();
  size_t connection_count() const;

 private:
  friend class Exchange;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qp::http
