// One load-generator run: opens the connections, issues requests at a fixed
// concurrency (closed loop) or a fixed arrival rate (open loop), samples the
// watched processes, and fills Metrics. Runs its own libuv loop on the
// calling thread; run() returns when every handle is closed.
//
// Open loop: arrival i is due at t0 + i/rate. Due arrivals take an idle
// connection; when none is idle they wait, and every latency is measured
// from the arrival's intended time, so a slow server cannot hide its queue
// (coordinated omission).
// Closed loop: each connection issues its next request as soon as the
// previous one ends; the first requests are spread over --ramp.
//
// Phases: connect (all connections, --connect-parallel at a time; Qwen pool
// chats are created here) -> run (t0 .. t0+duration, or until --requests have
// started) -> drain (in-flight requests, up to --drain) -> close.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "common/status.h"
#include "common/uv/handle.h"
#include "tools/bench/connection.h"
#include "tools/bench/metrics.h"
#include "tools/bench/options.h"
#include "tools/bench/precise_timer.h"

namespace qp::bench {

class LoadRunner : public ConnectionOwner {
 public:
  explicit LoadRunner(LoadOptions options);
  ~LoadRunner() override;
  LoadRunner(const LoadRunner&) = delete;
  LoadRunner& operator=(const LoadRunner&) = delete;

  // Runs to completion; errors only for set-up failures (bad address,
  // no timerfd). Request failures are results, not errors.
  Status run();
  std::string report() const;
  const Metrics& metrics() const { return *metrics_; }

 private:
  enum class Phase { kConnecting, kRunning, kDraining, kClosing, kDone };

  // ConnectionOwner
  void on_ready(Connection* c) override;
  void on_request_end(Connection* c, const RequestTiming& t, const ErrorKind* error,
                      int http_status, std::string_view detail) override;
  void on_content_chunk(Connection* c, uint64_t now_ns, const RequestTiming& t,
                        uint64_t gap_ns) override;
  void on_event_bytes(size_t events, size_t body_bytes) override;
  void on_closed(Connection* c, bool connect_failed) override;
  uint64_t next_seq() override { return ++seq_; }

  Status prepare();
  void connect_more();
  void begin_run();
  void on_tick();     // 1 ms libuv timer: ramp, phase changes
  void on_sweep();    // 100 ms: timeouts, reconnects
  void on_arrival();  // open loop: the precise timer fired
  void dispatch();    // open loop: hand due arrivals to idle connections
  void make_idle(Connection* c);
  bool may_start_closed(uint64_t now_ns) const;
  void start(Connection* c, uint64_t intended_ns);
  void maybe_finish_run(uint64_t now_ns);
  void begin_drain(uint64_t now_ns);
  void shutdown();
  void take_sample();
  uint64_t intended(uint64_t i) const;
  uint64_t arrival_limit() const;

  LoadOptions o_;
  uv_loop_t loop_{};
  bool loop_open_ = false;
  ConnectionShared shared_;
  std::string read_buffer_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<Connection*> idle_;    // open loop: ready connections with nothing to do
  std::vector<char> in_idle_;        // by connection id: is it in idle_
  std::vector<char> counted_ready_;  // by connection id: counted in ready_ (connect phase)
  std::unique_ptr<Metrics> metrics_;
  uv::Timer tick_;
  uv::Timer sweep_;
  uv::Timer sampler_;
  PreciseTimer arrivals_;

  Phase phase_ = Phase::kConnecting;
  uint64_t seq_ = 0;
  uint64_t t0_ns_ = 0;
  uint64_t measure_from_ns_ = 0;
  uint64_t run_end_ns_ = 0;     // t0 + duration
  uint64_t window_end_ns_ = 0;  // end of the throughput window (set when arrivals stop)
  uint64_t drain_deadline_ns_ = 0;
  uint64_t last_end_ns_ = 0;  // latest request end
  bool duration_bound_ = false;
  size_t next_connect_ = 0;  // connections [0, next_connect_) have been started
  size_t connecting_ = 0;
  size_t ready_ = 0;         // connections that reached on_ready at least once
  size_t ramp_next_ = 0;     // closed loop: connections given their first request
  uint64_t open_ = 0;        // requests in flight
  uint64_t issued_ = 0;      // requests started
  uint64_t scheduled_ = 0;   // open loop: arrivals due so far
  uint64_t dispatched_ = 0;  // open loop: arrivals handed to a connection
  size_t closed_ = 0;
  double elapsed_s_ = 0;
  double window_s_ = 0;
  double self_cpu_s_ = 0;
  uint64_t self_rss_bytes_ = 0;
  std::string setup_error_;
};

}  // namespace qp::bench
