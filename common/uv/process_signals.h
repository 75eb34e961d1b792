// The signals every qwenproxy process answers, and systemd's watchdog, in
// one place (qp-broker, qp-frontend, qp-worker and the launcher).
//
// - SIGINT and SIGTERM call on_stop(signum), each time one arrives: a process
//   may drain on the first and stop at once on the second.
// - SIGHUP calls on_reload; without one, SIGHUP keeps its default action.
// - With Options::watchdog and WatchdogSec= set for this process
//   (WATCHDOG_USEC), systemd's watchdog is pinged every half interval.
//
// Every handle is unref'd: none keeps the loop alive, so uv_run returns once
// the process's own handles are closed. Callbacks that throw are logged
// (uv::guarded), never propagated into libuv.
#pragma once

#include <functional>

#include <uv.h>

#include "common/uv/handle.h"

namespace qp::uv {

class ProcessSignals {
 public:
  struct Options {
    std::function<void(int signum)> on_stop;
    std::function<void()> on_reload;  // empty: SIGHUP is not handled
    bool watchdog = true;             // false when the process pings it itself
  };

  ProcessSignals(uv_loop_t* loop, Options options);
  ~ProcessSignals() { close(); }
  ProcessSignals(const ProcessSignals&) = delete;  // handles point at this
  ProcessSignals& operator=(const ProcessSignals&) = delete;

  void start();
  // Stops and closes every handle; safe to call twice, and from on_stop.
  void close();

  // "SIGTERM", "SIGINT", "SIGHUP", or "signal" for any other.
  static const char* name(int signum);

 private:
  void on_signal(int signum);
  void on_hup();
  void on_watchdog();

  uv_loop_t* loop_;
  Options options_;
  Signal sigint_, sigterm_, sighup_;
  Timer watchdog_;
};

}  // namespace qp::uv
