#include "common/zmq/uv_socket.h"

#include "common/log.h"
#include "common/uv/callback.h"

namespace qp::zmqx {
namespace {
// Frames in the largest common message (routing id, version, command, request
// id, body, two extra frames).
constexpr size_t kExpectedFrames = 8;
}  // namespace

void set_common_options(zmq::socket_t& s) {
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndhwm, 1'000'000);
  s.set(zmq::sockopt::rcvhwm, 1'000'000);
}

UvSocket::UvSocket(uv_loop_t* loop, zmq::socket_t socket, Handler handler)
    : loop_(loop), socket_(std::move(socket)), handler_(std::move(handler)) {}

UvSocket::~UvSocket() { close(); }

Status UvSocket::start() {
  int fd = socket_.get(zmq::sockopt::fd);
  if (int r = uv_poll_init(loop_, poll_.get(), fd); r != 0) {
    return error(Code::kIo, std::string("uv_poll_init: ") + uv_strerror(r));
  }
  poll_.get()->data = this;
  int r = uv_poll_start(poll_.get(), UV_READABLE, uv::method<&UvSocket::on_readable>);
  if (r != 0) return error(Code::kIo, std::string("uv_poll_start: ") + uv_strerror(r));
  uv_idle_init(loop_, idle_.get());
  idle_.get()->data = this;
  // Messages may already be queued before the first edge.
  schedule_drain();
  return Status();
}

void UvSocket::schedule_drain() {
  if (idle_active_ || closed_) return;
  idle_active_ = true;
  uv_idle_start(idle_.get(), uv::method<&UvSocket::on_idle>);
}

void UvSocket::on_readable(int status, int /*events*/) {
  if (status < 0) QP_WARN("zmq.poll_error").kv("error", uv_strerror(status));
  drain();
}

void UvSocket::on_idle() {
  uv_idle_stop(idle_.get());
  idle_active_ = false;
  drain();
}

void UvSocket::drain() {
  if (closed_ || draining_) return;
  draining_ = true;
  int budget = kDrainBudget;
  try {
    while (!closed_) {
      auto events = socket_.get(zmq::sockopt::events);
      if ((events & ZMQ_POLLIN) == 0) {
        caught_up_ms_ = uv_now(loop_);
        break;
      }
      if (budget-- == 0) {
        schedule_drain();
        break;
      }
      Frames frames;
      frames.reserve(kExpectedFrames);  // one allocation, not 1 → 2 → 4 → 8
      auto n = zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait);
      if (!n) break;
      try {
        handler_(std::move(frames));
      } catch (const std::exception& e) {
        QP_ERROR("zmq.handler_exception").kv("error", e.what());
      }
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM) QP_ERROR("zmq.recv_error").kv("error", e.what());
  }
  draining_ = false;
}

bool UvSocket::send(Frames& frames) {
  if (closed_) return false;
  bool ok = true;
  try {
    auto r = zmq::send_multipart(socket_, frames, zmq::send_flags::dontwait);
    if (!r) {
      QP_WARN("zmq.send_would_block");
      ok = false;
    }
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH with ROUTER_MANDATORY; otherwise a real failure.
    QP_WARN("zmq.send_error").kv("error", e.what());
    ok = false;
  }
  // Sending can consume the read edge: check again from the loop.
  schedule_drain();
  return ok;
}

void UvSocket::close() {
  if (closed_) return;
  closed_ = true;
  if (poll_.get() && poll_.base()->type != UV_UNKNOWN_HANDLE) uv_poll_stop(poll_.get());
  poll_.reset();
  idle_.reset();
  socket_.close();
}

bool UvSocket::readable() {
  if (closed_) return false;
  try {
    return (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
  } catch (const zmq::error_t&) {
    return false;
  }
}

}  // namespace qp::zmqx
