// A tiny scripted HTTP/1.1 server on a libuv loop, standing in for the Qwen
// site in the worker's tests (Envoy's FakeUpstream idea). It binds
// 127.0.0.1:0, records every request, and answers with a Response script:
// status + content type + body pieces written one per loop turn (or after
// `piece_delay_ms` through a uv timer), then closes the connection (the
// body is delimited by the close). `hang` never answers.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

namespace qp::testing {

struct FakeRequest {
  std::string method;
  std::string target;                          // path + query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct FakeResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::string> pieces;
  uint64_t piece_delay_ms = 0;
  bool hang = false;       // never answer (timeouts)
  bool keep_open = false;  // write the pieces, then neither close nor end
  // Written only by release_held(), head and pieces in one write, together
  // with every other held response (their bytes arrive in one loop turn).
  bool held = false;
};

class FakeUpstream {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  FakeUpstream(uv_loop_t* loop, Handler handler);
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::vector<FakeRequest>& requests() const { return requests_; }
  // Closes the listener and every connection.
  void close();
  // Responses with `held` whose request has arrived.
  size_t held_count() const { return held_.size(); }
  // Writes every held response now, one write each.
  void release_held();

 private:
  struct Conn;
  void on_connection();
  void on_request(Conn* c);
  void write_next(Conn* c);
  void close_conn(Conn* c);

  uv_loop_t* loop_;
  Handler handler_;
  uv_tcp_t* server_ = nullptr;
  int port_ = 0;
  std::list<std::unique_ptr<Conn>> conns_;
  std::vector<FakeRequest> requests_;
  std::vector<Conn*> held_;
};

// Runs `loop` until pred() is true or timeout_ms of loop time elapsed (a uv
// timer bounds the wait; no sleeps). Returns pred().
bool run_until(uv_loop_t* loop, const std::function<bool()>& pred, uint64_t timeout_ms = 5000);

}  // namespace qp::testing
