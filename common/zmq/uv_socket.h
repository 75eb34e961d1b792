// A ZeroMQ socket driven from a libuv loop (modelled on zeromq.js Poller).
//
// ZMQ_FD is edge-triggered and signals *any* change, so on every wake-up and
// after every send we re-read ZMQ_EVENTS and drain with dontwait. A drain is
// bounded (fairness with other handles); leftovers are resumed from a uv_idle
// handle on the next loop iteration. Messages are delivered to the handler
// from the loop, never re-entrantly from inside send().
//
// Threading: the loop's thread only. Exceptions from the handler are caught
// and logged here (no exception crosses a libuv callback).
#pragma once

#include <functional>

#include <uv.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/status.h"
#include "common/uv/handle.h"
#include "common/zmq/envelope.h"

namespace qp::zmqx {

class UvSocket {
 public:
  using Handler = std::function<void(Frames&&)>;
  // Messages delivered per wake-up before yielding to the loop.
  static constexpr int kDrainBudget = 256;

  UvSocket(uv_loop_t* loop, zmq::socket_t socket, Handler handler);
  ~UvSocket();
  UvSocket(const UvSocket&) = delete;
  UvSocket& operator=(const UvSocket&) = delete;

  Status start();
  // Sends all frames without blocking. Returns false (and logs) if the socket
  // would block (high-water mark) or failed; for a ROUTER, a message to an
  // unknown peer is silently dropped by ZeroMQ.
  bool send(Frames& frames);
  bool send(Frames&& frames) { return send(frames); }
  void close();
  zmq::socket_t& socket() { return socket_; }
  // True if a message is waiting to be read (ZMQ_EVENTS has POLLIN).
  bool readable();
  // uv_now when a drain last found nothing more to read (0: never): every
  // message queued before then has been delivered. With readable(), what a
  // liveness check needs (common/uv/silence_clock.h).
  uint64_t caught_up_ms() const { return caught_up_ms_; }

 private:
  void drain();
  void schedule_drain();
  void on_readable(int status, int events);
  void on_idle();

  uv_loop_t* loop_;
  zmq::socket_t socket_;
  Handler handler_;
  uv::Poll poll_;
  uv::Idle idle_;
  uint64_t caught_up_ms_ = 0;
  bool idle_active_ = false;
  bool draining_ = false;
  bool closed_ = false;
};

// Common socket options: linger 0 (never hang on exit), large HWMs.
void set_common_options(zmq::socket_t& s);

}  // namespace qp::zmqx
