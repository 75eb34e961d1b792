#include "frontend/broker_client.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/protocol/chunk_batch.h"
#include "common/protocol/codec.h"
#include "common/zmq/envelope.h"

namespace qp::frontend {

using protocol::Command;

BrokerClient::BrokerClient(uv_loop_t* loop, zmq::context_t& ctx, std::string endpoint,
                           uint64_t heartbeat_ms, uint64_t wait_ms, FinishedFn on_finished)
    : loop_(loop),
      ctx_(ctx),
      endpoint_(std::move(endpoint)),
      heartbeat_ms_(heartbeat_ms),
      wait_ms_(wait_ms),
      on_finished_(std::move(on_finished)),
      instance_(ids::random_hex(16)) {}

BrokerClient::~BrokerClient() { close(); }

Status BrokerClient::start() {
  try {
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    zmqx::set_common_options(s);
    // Sends fail (EAGAIN) instead of queueing inside ZeroMQ while no broker
    // is connected: we hold such jobs ourselves, with a deadline.
    s.set(zmq::sockopt::immediate, 1);
    s.set(zmq::sockopt::reconnect_ivl, 50);
    s.set(zmq::sockopt::reconnect_ivl_max, 1000);
    if (!name_.empty()) {
      routing_id_ = name_ + "-" + instance_.substr(0, 8);
      s.set(zmq::sockopt::routing_id, routing_id_);
    }
    zmqx::apply_peer_link(s, link_);  // tcp://: its own reconnect intervals, curve
    s.connect(endpoint_);
    socket_ = std::make_unique<zmqx::UvSocket>(
        loop_, std::move(s), [this](zmqx::Frames&& f) { on_message(std::move(f)); });
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

void BrokerClient::mark_disconnected(const char* why) {
  if (!connected_) return;
  connected_ = false;
  QP_WARN("broker.lost").kv("endpoint", endpoint_).kv("why", why).kv("pending", jobs_.size());
  // Output already reached these clients: they cannot be resumed elsewhere.
  fail_where(true, Code::kUpstream, "lost contact with the broker while streaming; please retry");
  // The rest wait for the broker's next heartbeat (same instance: nothing
  // was lost; new instance: they are re-submitted).
  uint64_t now = uv_now(loop_);
  for (auto& [id, job] : jobs_) {
    if (!job.sent && job.wait_deadline_ms == 0 && wait_ms_ > 0)
      job.wait_deadline_ms = now + wait_ms_;
  }
}

void BrokerClient::on_heartbeat_timer() {
  protocol::PeerHello hello{instance_, "frontend"};
  protocol::encode(hello, &body_);
  if (!socket_->send(zmqx::make_frames(Command::kHeartbeat, {}, body_))) {
    mark_disconnected("send failed");
  }
  uv_update_time(loop_);
  const uint64_t now = uv_now(loop_);
  const auto heard_up_to = silence_.tick(now, socket_->readable(), socket_->caught_up_ms());
  if (!heard_up_to) {
    QP_WARN("frontend.loop_stalled").kv("stall_ms", silence_.last_stall_ms());
  } else if (connected_ &&
             uv::silent_for(last_heard_ms_, *heard_up_to, heartbeat_ms_ * protocol::kLiveness)) {
    mark_disconnected("missed heartbeats");
  }
  if (!may_hold_) return;  // no job waits: nothing to expire
  // Jobs held too long for a broker that does not come back.
  std::vector<std::string> expired;
  for (auto& [id, job] : jobs_) {
    if (!job.sent && job.wait_deadline_ms != 0 && now >= job.wait_deadline_ms)
      expired.push_back(id);
  }
  for (const auto& id : expired) {
    JobSink* sink = jobs_[id].sink;
    jobs_.erase(id);
    sink->on_error(protocol::JobError{id,
                                      Code::kUnavailable,
                                      "the broker is not reachable; the service may be restarting, "
                                      "please retry",
                                      1,
                                      {},
                                      0,
                                      {}});
    if (on_finished_) on_finished_(id);
  }
}

void BrokerClient::hold(Job& job) {
  job.sent = false;
  may_hold_ = true;
  if (job.wait_deadline_ms == 0 && wait_ms_ > 0) job.wait_deadline_ms = uv_now(loop_) + wait_ms_;
}

bool BrokerClient::send_job(const std::string& request_id, Job& job) {
  if (!socket_->send(zmqx::make_frames(Command::kJob, request_id, job.body, {job.route}))) {
    return false;
  }
  job.sent = true;
  job.wait_deadline_ms = 0;
  return true;
}

Status BrokerClient::submit(const protocol::JobRequest& req, JobSink* sink) {
  if (jobs_.count(req.request_id) != 0) return error(Code::kInternal, "duplicate request id");
  Job& job = jobs_[req.request_id];
  job.sink = sink;
  protocol::encode(req, &job.body);
  protocol::encode(protocol::route_of(req), &job.route);
  if (!connected_ || !send_job(req.request_id, job)) {
    if (connected_) mark_disconnected("send failed");
    hold(job);
    QP_INFO("broker.job_held").kv("request_id", req.request_id);
  }
  return Status();
}

void BrokerClient::flush_waiting() {
  if (!may_hold_) return;  // every job was sent: no walk per broker heartbeat
  for (auto& [id, job] : jobs_) {
    if (job.sent) continue;
    if (!send_job(id, job)) {
      mark_disconnected("send failed");
      return;
    }
  }
  may_hold_ = false;
}

void BrokerClient::cancel(const std::string& request_id, const std::string& reason) {
  auto it = jobs_.find(request_id);
  if (it == jobs_.end()) return;
  bool sent = it->second.sent;
  jobs_.erase(it);
  if (!sent) return;  // never reached the broker
  protocol::Cancel c{request_id, reason};
  protocol::encode(c, &body_);
  socket_->send(zmqx::make_frames(Command::kCancel, request_id, body_));
}

Status BrokerClient::send_admin(const protocol::AdminCommand& command) {
  if (!connected_) return error(Code::kUnavailable, "The broker is not reachable; please retry.");
  protocol::encode(command, &body_);
  if (!socket_->send(zmqx::make_frames(Command::kAdmin, {}, body_)))
    return error(Code::kUnavailable, "The broker is not reachable; please retry.");
  return Status();
}

void BrokerClient::finish(const std::string& request_id) {
  jobs_.erase(request_id);
  if (on_finished_) on_finished_(request_id);
}

void BrokerClient::fail_where(bool started_only, Code code, const std::string& message) {
  std::vector<std::pair<std::string, JobSink*>> failed;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (!started_only || it->second.started) {
      failed.emplace_back(it->first, it->second.sink);
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, sink] : failed) {
    sink->on_error(protocol::JobError{id, code, message, 0, {}, 0, {}});
    if (on_finished_) on_finished_(id);
  }
}

void BrokerClient::on_broker_heartbeat(protocol::BrokerStatus st) {
  bool restarted = !status_.instance.empty() && st.instance != status_.instance;
  if (restarted) {
    QP_WARN("broker.restarted").kv("pending", jobs_.size());
    fail_where(true, Code::kUpstream,
               "the broker restarted while streaming this response; please retry");
    // The old broker's jobs are gone: send the unstarted ones again.
    for (auto& [id, job] : jobs_) {
      if (job.sent) hold(job);
    }
  }
  status_ = std::move(st);
  if (!connected_) {
    connected_ = true;
    ever_connected_ = true;
    QP_INFO("broker.connected").kv("endpoint", endpoint_).kv("instance", status_.instance);
  }
  flush_waiting();
}

void BrokerClient::on_message(zmqx::Frames&& frames) {
  auto env = zmqx::Envelope::parse(std::move(frames), /*routed=*/false);
  if (!env) {
    QP_WARN("broker.bad_message").kv("error", env.error().message());
    return;
  }
  last_heard_ms_ = uv_now(loop_);
  Command cmd = env->command();
  if (cmd == Command::kHeartbeat) {
    protocol::BrokerStatus st;
    if (Status s = protocol::decode(env->body(), &st); !s.ok()) {
      QP_WARN("broker.bad_heartbeat").kv("error", s.message());
      return;
    }
    on_broker_heartbeat(std::move(st));
    return;
  }
  if (cmd == Command::kChunks) {
    protocol::ChunkBatchReader reader(env->body());
    protocol::ChunkEntry entry;
    while (reader.next(&entry)) on_chunk(entry.request_id, entry.body);
    if (reader.malformed()) QP_WARN("broker.bad_message").kv("error", "malformed CHUNKS batch");
    return;
  }
  if (cmd == Command::kChunk) {
    on_chunk(env->request_id(), env->body());
    return;
  }
  std::string request_id(env->request_id());
  auto it = jobs_.find(request_id);
  if (it == jobs_.end()) return;
  Job& job = it->second;
  JobSink* sink = job.sink;
  switch (cmd) {
    case Command::kDone: {
      protocol::JobDone d;
      if (Status s = protocol::decode(env->body(), &d); !s.ok()) {
        sink->on_error(protocol::JobError{
            request_id, Code::kProtocol, "malformed reply from worker", 0, {}, 0, {}});
      } else {
        sink->on_done(d);
      }
      finish(request_id);
      return;
    }
    case Command::kError: {
      protocol::JobError e;
      if (Status s = protocol::decode(env->body(), &e); !s.ok()) {
        e = protocol::JobError{
            request_id, Code::kProtocol, "malformed error reply from worker", 0, {}, 0, {}};
      }
      sink->on_error(e);
      finish(request_id);
      return;
    }
    case Command::kModels: {
      protocol::ModelList m;
      if (Status s = protocol::decode(env->body(), &m); !s.ok()) {
        sink->on_error(protocol::JobError{
            request_id, Code::kProtocol, "malformed model list from worker", 0, {}, 0, {}});
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

void BrokerClient::on_chunk(std::string_view request_id, std::string_view body) {
  auto it = jobs_.find(request_id);
  if (it == jobs_.end()) {
    // A job we no longer want (client gone): tell the broker again.
    protocol::Cancel c{std::string(request_id), "unknown request"};
    protocol::encode(c, &body_);
    socket_->send(zmqx::make_frames(Command::kCancel, request_id, body_));
    return;
  }
  if (Status s = protocol::decode(body, &chunk_); !s.ok()) {
    QP_WARN("broker.bad_chunk").kv("request_id", request_id).kv("error", s.message());
    return;
  }
  Job& job = it->second;
  if (!job.started) {
    job.started = true;
    std::string().swap(job.body);  // no longer re-submittable: free the copy
  }
  job.sink->on_chunk(chunk_);
}

}  // namespace qp::frontend
