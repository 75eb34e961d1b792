// `mock-qwen --replay FILE`: serves a recording (docs/recording.md) back
// instead of the simulated site.
//
// ReplayLog (pure) parses the JSON lines and matches requests: a request
// takes the first exchange not served yet with the same method and path;
// the query string is ignored (it holds chat ids, which differ from run to
// run only if the client makes its chats in another order). Exchanges are
// thus served in recorded order per method+path, and requests of different
// paths may interleave freely.
//
// ReplayServer (libuv, common/http) answers with the recorded status,
// headers and body, or the recorded SSE events (`data: …` + blank line).
// Timing: `speed` 0 sends the events at once; otherwise event i is sent
// t_ms/speed after the request (1 = as recorded). An exchange recorded as
// failed without a status is answered by resetting the connection; one
// failed after some events, with those events and then a reset.
// A request with nothing left to match gets 500 and a JSON error
// {"success":false,"data":{"code":"ReplayMismatch","details":…}} at once,
// and a WARN log line `replay.unmatched`; it never hangs.
// GET /__mock/replay returns {"served":N,"remaining":N,"unmatched":N}.
// Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <uv.h>

#include "common/http/server.h"
#include "common/status.h"
#include "tools/mock-qwen/delay_queue.h"

namespace qp::mock {

struct ReplayEvent {
  uint64_t t_ms = 0;
  std::string data;  // the event's data payload (serialised JSON or text)
};

struct ReplayExchange {
  std::string method;
  std::string path;  // without the query
  int status = 0;    // 0: no response was received (transport failure)
  std::vector<std::pair<std::string, std::string>> headers;
  bool sse = false;
  std::vector<ReplayEvent> events;
  std::string body;
  bool failed = false;  // outcome "failed": end with a connection reset
  bool served = false;
};

class ReplayLog {
 public:
  // Parses a recording. Errors name the line number; blank lines are skipped.
  static Result<ReplayLog> parse(std::string_view text);

  // The next unserved exchange for this method and target (query ignored),
  // marked served; null if none is left.
  const ReplayExchange* take(std::string_view method, std::string_view target);
  size_t size() const { return exchanges_.size(); }
  size_t remaining() const;

 private:
  std::vector<ReplayExchange> exchanges_;
};

struct ReplayOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  double speed = 0;  // 0: no delays; 1: recorded timing; 2: twice as fast
};

class ReplayServer {
 public:
  ReplayServer(uv_loop_t* loop, ReplayOptions options, ReplayLog log);
  ~ReplayServer();
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  Status listen();
  int port() const { return server_->port(); }
  void close();

 private:
  void handle(http::Exchange ex);
  void send_events(http::Exchange ex, const ReplayExchange* e, size_t i);
  void send_due(http::Exchange ex, const ReplayExchange* e, size_t i);
  void end(http::Exchange ex, const ReplayExchange* e);

  ReplayOptions options_;
  ReplayLog log_;
  uint64_t served_ = 0;
  uint64_t unmatched_ = 0;
  DelayQueue delays_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace qp::mock
