// A client that runs on the test's own loop and sends its bytes in steps on a
// libuv timer: `step_bytes` every `interval_ms` (the slow clients of the
// slowloris tests). No thread and no sleep: the test drives the loop with
// TestLoop::run_until and asserts on what the client received.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <uv.h>

namespace qp::http::test {

class TrickleClient {
 public:
  // Connects to 127.0.0.1:port; the first step is sent once connected.
  // `steps`: the bytes of each step, sent one step per interval.
  TrickleClient(uv_loop_t* loop, int port, std::vector<std::string> steps, uint64_t interval_ms);
  // Splits `data` into steps of `step_bytes`.
  static std::vector<std::string> split(const std::string& data, size_t step_bytes);
  // Closes the handles if close() was not called (they are freed when the
  // loop runs their close callbacks).
  ~TrickleClient();
  TrickleClient(const TrickleClient&) = delete;
  TrickleClient& operator=(const TrickleClient&) = delete;

  bool connected() const;
  // The server closed the connection (EOF, reset or error) or connect failed.
  bool closed() const;
  const std::string& received() const;
  size_t steps_sent() const;
  bool all_sent() const;
  // Loop time (uv_now) of the first step and of the server's close.
  uint64_t first_step_ms() const;
  uint64_t closed_ms() const;
  // Stops sending and closes the socket. The accessors above must not be
  // called after it.
  void close();

 private:
  struct State;
  State* state_;
};

}  // namespace qp::http::test
