// Tells a libuv loop at once when a peer's connection on a socket closes
// (ZMQ_EVENT_DISCONNECTED through zmq_socket_monitor and an inproc PAIR
// socket polled like the others). The broker uses it on tcp:// links: libzmq
// closes a link whose ZMTP heartbeats time out, and the broker then probes
// its peers instead of waiting for its next heartbeat tick, so a cut link is
// acted on as soon as libzmq notices it.
//
// The event does not say which peer (a ROUTER's routing ids are not in it):
// the owner finds out by sending (ROUTER_MANDATORY fails for a gone peer).
// Threading: the loop's thread only. Close it before the watched socket.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <uv.h>
#include <zmq.hpp>

#include "common/status.h"
#include "common/zmq/uv_socket.h"

namespace qp::zmqx {

class DisconnectWatch {
 public:
  // `name` appears in the inproc endpoint (made unique in the process).
  DisconnectWatch(uv_loop_t* loop, zmq::context_t& context, std::string name,
                  std::function<void()> on_disconnect);
  ~DisconnectWatch();
  DisconnectWatch(const DisconnectWatch&) = delete;
  DisconnectWatch& operator=(const DisconnectWatch&) = delete;

  Status start(zmq::socket_t& watched);
  void close();

 private:
  uv_loop_t* loop_;
  zmq::context_t& context_;
  std::string endpoint_;
  std::function<void()> on_disconnect_;
  std::unique_ptr<UvSocket> socket_;
};

}  // namespace qp::zmqx
