// Worker ↔ broker link: the DEALER socket, (re)connecting, messages in and
// out, the CHUNKS batch, heartbeats and the broker-silent check (worker.h).
#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "common/notify.h"
#include "common/protocol/chunk_batch.h"
#include "common/protocol/codec.h"
#include "common/uv/callback.h"
#include "common/zmq/envelope.h"
#include "worker/worker.h"
#include "worker/worker_job.h"

namespace qp::worker {

using protocol::Command;

// --- broker connection -----------------------------------------------------

void Worker::connect_socket() {
  try {
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    zmqx::set_common_options(s);
    zmqx::apply_peer_link(s, link_);
    s.connect(config_.broker.worker_endpoint);
    socket_ = std::make_unique<zmqx::UvSocket>(
        loop_, std::move(s), [this](zmqx::Frames&& frames) { on_message(std::move(frames)); });
    Status st = socket_->start();
    if (!st.ok()) {
      QP_ERROR("broker.socket_failed").kv("error", st.message());
      socket_.reset();
      schedule_reconnect(backoff_ms_, "socket_start_failed");
      return;
    }
  } catch (const zmq::error_t& e) {
    QP_ERROR("broker.connect_failed")
        .kv("endpoint", config_.broker.worker_endpoint)
        .kv("error", e.what());
    socket_.reset();
    schedule_reconnect(backoff_ms_, "connect_failed");
    return;
  }
  last_broker_ms_ = uv_now(loop_);
  broker_instance_.clear();
  send_status(Command::kReady);
  QP_INFO("broker.ready_sent")
      .kv("endpoint", config_.broker.worker_endpoint)
      .kv("account", account_.name)
      .kv("instance", instance_)
      .kv("capacity", static_cast<uint64_t>(account_.capacity));
  if (!notified_ready_) {
    notified_ready_ = true;
    notify::ready("worker " + account_.name + " connected to the broker");
  }
}

void Worker::drop_socket() {
  if (!socket_) return;
  chunks_.clear();  // for jobs already aborted: the broker that owned them is gone
  chunks_turn_.disarm();
  socket_->close();
  // We may be inside this socket's own message handler (DISCONNECT, a
  // broker restart): destroy it on a later loop iteration.
  deferred_.add(std::move(socket_));
}

void Worker::schedule_reconnect(uint64_t delay_ms, const char* reason) {
  if (shutting_down_) return;
  abort_jobs(reason);
  drop_socket();
  QP_WARN("broker.reconnect").kv("reason", reason).kv("delay_ms", delay_ms);
  if (delay_ms > 0) backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
  uv_timer_start(reconnect_timer_.get(), uv::method<&Worker::on_reconnect_timer>, delay_ms, 0);
}

void Worker::on_reconnect_timer() {
  if (!shutting_down_ && !socket_) connect_socket();
}

void Worker::on_message(zmqx::Frames&& frames) {
  auto env = zmqx::Envelope::parse(std::move(frames), /*routed=*/false);
  if (!env) {
    QP_WARN("broker.bad_message").kv("error", env.error().message());
    return;
  }
  last_broker_ms_ = uv_now(loop_);
  switch (env->command()) {
    case Command::kHeartbeat:
      on_broker_heartbeat(env->body());
      break;
    case Command::kJob:
      // Frames after the body: ROUTE (not needed here), then RESUME if the
      // broker made the job a continuation (wire.h).
      on_job(env->request_id(), env->body(), env->extra_count() > 1 ? env->extra(1) : "");
      break;
    case Command::kCancel:
      on_cancel(env->request_id());
      break;
    case Command::kAdmin: {
      // An operator asked (admin API) to re-read the account file.
      protocol::AdminCommand c;
      if (protocol::decode(env->body(), &c).ok() && c.action == "reload" &&
          c.account == account_.name) {
        accounts_.reload("admin request");
      }
      break;
    }
    case Command::kDisconnect:
      if (draining_) {  // the broker is leaving too: nothing more can be delivered
        uv_timer_start(drain_timer_.get(), &Worker::on_drain_timer, 0, 0);
        break;
      }
      // The broker forgot us: register again (after the backoff, so a broker
      // that keeps refusing us is not flooded).
      schedule_reconnect(backoff_ms_, "broker_disconnect");
      break;
    default:
      QP_WARN("broker.unexpected_command").kv("command", protocol::command_name(env->command()));
  }
}

void Worker::on_broker_heartbeat(std::string_view body) {
  protocol::BrokerStatus bs;
  if (Status s = protocol::decode(body, &bs); !s.ok()) {
    QP_WARN("broker.bad_heartbeat").kv("error", s.message());
    return;
  }
  if (broker_instance_.empty()) {
    broker_instance_ = bs.instance;
  } else if (bs.instance != broker_instance_) {
    // It restarted and lost all routing: our jobs can no longer be
    // delivered, and it must learn about us again.
    QP_WARN("broker.restarted").kv("old_instance", broker_instance_).kv("instance", bs.instance);
    schedule_reconnect(0, "broker_restarted");
    return;
  }
  backoff_ms_ = kInitialBackoffMs;
}

void Worker::on_heartbeat_timer() {
  int64_t now_ms = uv::now_unix_ms();
  if (health_ == protocol::kHealthRateLimited && health_until_unix_ms_ > 0 &&
      now_ms >= health_until_unix_ms_) {
    set_health(protocol::kHealthOk, 0);
  }
  accounts_.tick();
  check_notices();  // time alone turns a token expiring, then expired
  if (!socket_) {
    broker_silence_.reset();  // no ticks while reconnecting: that gap is no stall
    return;
  }
  // Unread messages prove the broker alive (this loop was only busy with
  // thousands of streams), and right after a stall of this loop nothing is
  // judged: what the broker sent meanwhile has not been read yet.
  uv_update_time(loop_);
  const uint64_t now = uv_now(loop_);
  const auto heard_up_to = broker_silence_.tick(now, socket_->readable(), socket_->caught_up_ms());
  if (!heard_up_to) {
    QP_WARN("worker.loop_stalled").kv("stall_ms", broker_silence_.last_stall_ms());
  } else if (uv::silent_for(last_broker_ms_, *heard_up_to,
                            protocol::kLiveness * config_.broker.heartbeat_ms)) {
    schedule_reconnect(backoff_ms_, "broker_silent");
    return;
  }
  send_status(Command::kHeartbeat);
}

void Worker::flush_chunks() {
  chunks_turn_.disarm();
  if (chunks_.empty()) return;
  if (socket_) {
    socket_->send(zmqx::make_frames(Command::kChunks, {}, chunks_));
  } else {
    QP_DEBUG("broker.send_dropped").kv("command", "CHUNKS");
  }
  chunks_.clear();
}
// --- status ----------------------------------------------------------------

void Worker::send(Command command, std::string_view request_id, const std::string& body,
                  std::string_view extra) {
  if (!chunks_.empty()) flush_chunks();  // the batch first: chunks precede their job's end
  if (!socket_) {
    QP_DEBUG("broker.send_dropped")
        .kv("command", protocol::command_name(command))
        .kv("request_id", request_id);
    return;
  }
  socket_->send(extra.empty() ? zmqx::make_frames(command, request_id, body)
                              : zmqx::make_frames(command, request_id, body, {extra}));
}

protocol::WorkerStatus Worker::status() const {
  protocol::WorkerStatus s;
  s.account = account_.name;
  s.instance = instance_;
  s.capacity = draining_ ? 0 : account_.capacity;  // 0: the broker sends no new chat
  s.in_flight = static_cast<uint32_t>(jobs_.size() - list_jobs_);
  s.health = health_;
  s.health_until_unix_ms = health_until_unix_ms_;
  s.token_expires_unix_s = accounts_.token_expires_unix_s();
  s.detail = health_detail_;
  s.pid = static_cast<int64_t>(::getpid());
  s.started_unix_ms = started_unix_ms_;
  return s;
}

void Worker::send_status(Command command) {
  protocol::WorkerStatus s = status();
  if (command == Command::kHeartbeat) {
    metrics_.set_pool_size(pool_.ready_total());
    metrics_.collect(account_.name, &s.metrics);
  }
  protocol::encode(s, &body_);
  send(command, {}, body_);
}

}  // namespace qp::worker
