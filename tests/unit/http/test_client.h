// Test helpers for the HTTP server: a blocking-socket client meant to run on
// its own thread (responses are parsed with http-parser in response mode),
// and a loop driver that runs the server's loop until a condition holds.
// Every blocking receive has a 5 s timeout so a broken server fails a test
// instead of hanging it; timeouts are never used as synchronisation.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <uv.h>

namespace qp::http::test {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // de-chunked
  int chunks = 0;          // non-empty chunks seen (chunked responses)
  bool keep_alive = true;  // http_should_keep_alive on the response

  // Value of the first header with this lower-case name, or nullopt.
  std::optional<std::string> header(std::string_view lower_name) const;
};

class TestClient {
 public:
  TestClient() = default;
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connect(int port, bool ipv6 = false);
  bool send(std::string_view data);
  // Reads one response; a 1xx interim response is returned on its own.
  // head_request: the response to a HEAD request has no body.
  // nullopt on EOF, timeout or a malformed response.
  std::optional<ClientResponse> read_response(bool head_request = false);
  // Reads until `marker` has been received (it stays buffered). False on EOF/timeout.
  bool read_until(std::string_view marker);
  // Reads exactly n raw bytes.
  std::optional<std::string> read_exact(size_t n);
  // True if the server closes the connection (EOF or reset) before any further
  // byte arrives; false on timeout or unexpected data.
  bool wait_closed();
  // True once a receive saw the server's FIN or a reset (not a timeout).
  bool peer_closed() const { return peer_closed_; }
  void shutdown_write();
  void close();
  int fd() const { return fd_; }

 private:
  bool recv_more();  // appends to buf_; false on EOF, error or timeout
  int fd_ = -1;
  bool eof_ = false;
  bool peer_closed_ = false;
  std::string buf_;  // received, not yet consumed
};

// Owns a uv loop for one test.
class TestLoop {
 public:
  TestLoop();
  ~TestLoop();
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  uv_loop_t* get() { return &loop_; }
  // Runs the loop until pred() holds or timeout_ms elapse. Returns pred().
  bool run_until(const std::function<bool()>& pred, uint64_t timeout_ms = 10'000);
  // Runs `client` on a thread while driving the loop; returns after it finished.
  // Returns false if it did not finish within the timeout.
  bool run_client(const std::function<void()>& client, uint64_t timeout_ms = 20'000);
  // Thread-safe: wakes the loop so run_until re-checks its predicate.
  void wake();
  // Runs `fn` on the loop in a later iteration (a 0 ms timer).
  void defer(std::function<void()> fn, uint64_t delay_ms = 0);
  // Closes the helper handles, runs the loop until it has nothing left and
  // returns uv_loop_close() (0 when no handle leaked). Does not close other
  // owners' handles: a leak shows up as UV_EBUSY.
  int close();

 private:
  struct Deferred;
  uv_loop_t loop_{};
  uv_async_t wake_{};
  bool closed_ = false;
  std::vector<Deferred*> deferred_;  // scheduled, not yet run
};

}  // namespace qp::http::test
