#include "common/zmq/disconnect_watch.h"

#include <atomic>
#include <cstdint>
#include <cstring>

#include <zmq.h>

#include "common/log.h"

namespace qp::zmqx {
namespace {
std::atomic<uint64_t> instances{0};  // inproc endpoints are per context: keep them unique
}  // namespace

DisconnectWatch::DisconnectWatch(uv_loop_t* loop, zmq::context_t& context, std::string name,
                                 std::function<void()> on_disconnect)
    : loop_(loop),
      context_(context),
      endpoint_("inproc://qp-monitor-" + std::move(name) + "-" + std::to_string(++instances)),
      on_disconnect_(std::move(on_disconnect)) {}

DisconnectWatch::~DisconnectWatch() { close(); }

Status DisconnectWatch::start(zmq::socket_t& watched) {
  if (zmq_socket_monitor(watched.handle(), endpoint_.c_str(), ZMQ_EVENT_DISCONNECTED) != 0) {
    return error(Code::kIo, std::string("zmq_socket_monitor: ") + zmq_strerror(zmq_errno()));
  }
  try {
    zmq::socket_t s(context_, zmq::socket_type::pair);
    s.set(zmq::sockopt::linger, 0);
    s.connect(endpoint_);
    socket_ = std::make_unique<UvSocket>(loop_, std::move(s), [this](Frames&& frames) {
      // Frame 0: the event (uint16) and its value (uint32); frame 1: the endpoint.
      if (frames.empty() || frames[0].size() < sizeof(uint16_t)) return;
      uint16_t event = 0;
      std::memcpy(&event, frames[0].data(), sizeof event);
      if (event == ZMQ_EVENT_DISCONNECTED) on_disconnect_();
    });
  } catch (const zmq::error_t& e) {
    return error(Code::kIo, std::string("cannot watch a socket: ") + e.what());
  }
  return socket_->start();
}

void DisconnectWatch::close() {
  if (socket_) socket_->close();
}

}  // namespace qp::zmqx
