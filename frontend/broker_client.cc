#include "frontend/broker_client.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/protocol/codec.h"
#include "common/zmq/envelope.h"

namespace qp::frontend {

using protocol::Command;

BrokerClient::BrokerClient(uv_loop_t* loop, zmq::context_t& ctx, std::string endpoint,
                           uint64_t heartbeat_ms, FinishedFn on_finished)
    : loop_(loop),
      ctx_(ctx),
      endpoint_(std::move(endpoint)),
      heartbeat_ms_(heartbeat_ms),
      on_finished_(std::move(on_finished)),
      instance_(ids::random_hex(16)) {}

BrokerClient::~BrokerClient() { close(); }

Status BrokerClient::start() {
  try {
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    zmqx::set_common_options(s);
    // Fail fast (EAGAIN) instead of queueing jobs while no broker is connected.
    s.set(zmq::sockopt::immediate, 1);
    s.set(zmq::sockopt::reconnect_ivl, 100);
    s.set(zmq::sockopt::reconnect_ivl_max, 2000);
    s.connect(endpoint_);
    socket_ = std::make_unique<zmqx::UvSocket>(loop_, std::move(s),
                                               [this](zmqx::Frames&& f) { on_message(std::move(f)); });
  } catch (const zmq::error_t& e) {
    return error(Code::kIo, "cannot connect to broker at " + endpoint_ + ": " + e.what());
  }
  if (Status st = socket_->start(); !st.ok()) return st;
  if (int r = uv_timer_init(loop_, timer_.get()); r != 0) return error(Code::kIo, uv_strerror(r));
  timer_.get()->data = this;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<BrokerClient*>(t->data)->on_heartbeat_timer();
      },
      0, heartbeat_ms_);
  return Status();
}

void BrokerClient::close() {
  timer_.reset();
  if (socket_) socket_->close();
}

void BrokerClient::on_heartbeat_timer() {
  protocol::PeerHello hello{instance_, "frontend"};
  protocol::encode(hello, &body_);
  socket_->send(zmqx::make_frames(Command::kHeartbeat, {}, body_));
  uint64_t now = uv_now(loop_);
  if (connected_ && now - last_heard_ms_ > heartbeat_ms_ * protocol::kLiveness) {
    connected_ = false;
    QP_WARN("broker.lost").kv("endpoint", endpoint_).kv("pending", sinks_.size());
    fail_all(Code::kUnavailable, "lost contact with the broker; please retry");
  }
}

Status BrokerClient::submit(const protocol::JobRequest& job, JobSink* sink) {
  if (sinks_.count(job.request_id) != 0) return error(Code::kInternal, "duplicate request id");
  protocol::encode(job, &body_);
  if (!socket_->send(zmqx::make_frames(Command::kJob, job.request_id, body_))) {
    return error(Code::kUnavailable, "the broker is not reachable; the service may be starting or "
                                     "restarting, please retry");
  }
  sinks_.emplace(job.request_id, sink);
  return Status();
}

void BrokerClient::cancel(const std::string& request_id, const std::string& reason) {
  if (sinks_.erase(request_id) == 0) return;
  protocol::Cancel c{request_id, reason};
  protocol::encode(c, &body_);
  socket_->send(zmqx::make_frames(Command::kCancel, request_id, body_));
}

void BrokerClient::finish(const std::string& request_id) {
  sinks_.erase(request_id);
  if (on_finished_) on_finished_(request_id);
}

void BrokerClient::fail_all(Code code, const std::string& message) {
  auto sinks = std::move(sinks_);
  sinks_.clear();
  for (auto& [id, sink] : sinks) {
    protocol::JobError e{id, code, message, 0};
    sink->on_error(e);
    if (on_finished_) on_finished_(id);
  }
}

void BrokerClient::on_message(zmqx::Frames&& frames) {
  auto env = zmqx::Envelope::parse(std::move(frames), /*routed=*/false);
  if (!env) {
    QP_WARN("broker.bad_message").kv("error", env.error().message());
    return;
  }
  last_heard_ms_ = uv_now(loop_);
  if (!connected_) {
    connected_ = true;
    QP_INFO("broker.connected").kv("endpoint", endpoint_);
  }
  Command cmd = env->command();
  if (cmd == Command::kHeartbeat) {
    protocol::BrokerStatus st;
    if (Status s = protocol::decode(env->body(), &st); !s.ok()) {
      QP_WARN("broker.bad_heartbeat").kv("error", s.message());
      return;
    }
    if (!status_.instance.empty() && st.instance != status_.instance) {
      QP_WARN("broker.restarted").kv("pending", sinks_.size());
      fail_all(Code::kUpstream, "the broker restarted while serving this request; please retry");
    }
    status_ = std::move(st);
    return;
  }
  std::string request_id(env->request_id());
  auto it = sinks_.find(request_id);
  if (it == sinks_.end()) {
    if (cmd == Command::kChunk) {
      // A job we no longer want (client gone): tell the broker again.
      protocol::Cancel c{request_id, "unknown request"};
      protocol::encode(c, &body_);
      socket_->send(zmqx::make_frames(Command::kCancel, request_id, body_));
    }
    return;
  }
  JobSink* sink = it->second;
  switch (cmd) {
    case Command::kChunk: {
      if (Status s = protocol::decode(env->body(), &chunk_); !s.ok()) {
        QP_WARN("broker.bad_chunk").kv("request_id", request_id).kv("error", s.message());
        return;
      }
      sink->on_chunk(chunk_);
      return;
    }
    case Command::kDone: {
      protocol::JobDone d;
      if (Status s = protocol::decode(env->body(), &d); !s.ok()) {
        d = protocol::JobDone{};
        protocol::JobError e{request_id, Code::kProtocol, "malformed reply from worker", 0};
        sink->on_error(e);
      } else {
        sink->on_done(d);
      }
      finish(request_id);
      return;
    }
    case Command::kError: {
      protocol::JobError e;
      if (Status s = protocol::decode(env->body(), &e); !s.ok()) {
        e = protocol::JobError{request_id, Code::kProtocol, "malformed error reply from worker", 0};
      }
      sink->on_error(e);
      finish(request_id);
      return;
    }
    case Command::kModels: {
      protocol::ModelList m;
      if (Status s = protocol::decode(env->body(), &m); !s.ok()) {
        protocol::JobError e{request_id, Code::kProtocol, "malformed model list from worker", 0};
        sink->on_error(e);
      } else {
        sink->on_models(m);
      }
      finish(request_id);
      return;
    }
    default:
      QP_WARN("broker.unexpected_command").kv("command", protocol::command_name(cmd));
  }
}

}  // namespace qp::frontend
