// Broker: messages from frontends (jobs, admin requests, cancels) and queueing.
#include <fstream>

#include "broker/broker.h"
#include "broker/broker_internal.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/protocol/codec.h"

namespace qp::broker {

using internal::kind_name;
using internal::kShuttingDown;
using internal::kWorkerRestarted;
using internal::kWorkerStopped;
using internal::peer_name;
using protocol::Command;
using protocol::JobKind;

// ---- frontend side --------------------------------------------------------

void Broker::on_frontend_message(zmqx::Frames&& frames) {
  if (stopped_) return;
  auto parsed = zmqx::Envelope::parse(std::move(frames), /*routed=*/true);
  if (!parsed) {
    QP_WARN("broker.bad_message").kv("side", "frontend").kv("error", parsed.error().message());
    return;
  }
  zmqx::Envelope& env = *parsed;
  const std::string frontend(env.routing_id());
  const Command cmd = env.command();
  const int64_t now = now_ms();

  if (cmd == Command::kDisconnect) {
    if (frontends_.remove(frontend)) {
      QP_INFO("frontend.disconnected").kv("frontend", peer_name(frontend));
    }
    cancel_frontend_jobs(frontend, "frontend disconnected");
    settle();
    return;
  }
  FrontendSeen seen;
  if (cmd == Command::kHeartbeat) {
    protocol::PeerHello hello;
    if (Status s = protocol::decode(env.body(), &hello); !s.ok()) {
      QP_WARN("frontend.bad_heartbeat")
          .kv("frontend", peer_name(frontend))
          .kv("error", s.message());
    }
    seen = frontends_.on_hello(frontend, hello.instance, now);
  } else {
    seen = frontends_.on_message(frontend, now);
  }
  if (seen == FrontendSeen::kRestarted) {
    QP_WARN("frontend.restarted").kv("frontend", peer_name(frontend));
    cancel_frontend_jobs(frontend, "frontend restarted");
  }
  if (seen == FrontendSeen::kNew) {
    QP_INFO("frontend.connected").kv("frontend", peer_name(frontend));
    // Right away, so a new frontend can report status without waiting a tick.
    send_status(frontend, /*to_worker=*/false, status_body());
  }

  switch (cmd) {
    case Command::kHeartbeat:
      break;
    case Command::kJob:
      handle_job(frontend, env);
      break;
    case Command::kCancel:
      handle_frontend_cancel(frontend, env);
      break;
    case Command::kAdmin:
      handle_admin(frontend, env);
      break;
    default:
      QP_WARN("broker.unexpected_command")
          .kv("side", "frontend")
          .kv("frontend", peer_name(frontend))
          .kv("command", protocol::command_name(cmd));
      break;
  }
  settle();
}

void Broker::handle_job(const std::string& frontend, zmqx::Envelope& env) {
  const std::string rid(env.request_id());
  auto reject = [&](Code code, const std::string& message) {
    QP_WARN("job.rejected")
        .kv("request_id", rid)
        .kv("frontend", peer_name(frontend))
        .kv("code", code_name(code))
        .kv("error", message);
    send_error(frontend, rid, code, message, 0);
  };
  if (rid.empty()) return reject(Code::kInvalidArgument, "a job needs a request id");
  if (rid.size() > kMaxRequestIdBytes) {
    return reject(Code::kInvalidArgument,
                  "request id is longer than " + std::to_string(kMaxRequestIdBytes) + " bytes");
  }
  // The body stays opaque: routing reads only the ROUTE frame (wire.h).
  if (env.extra_count() != 1) return reject(Code::kProtocol, "a job needs one ROUTE frame");
  protocol::JobRoute route;
  if (Status s = protocol::decode(env.extra(0), &route); !s.ok()) {
    return reject(Code::kProtocol, "malformed job route: " + s.message());
  }
  if (route.kind != JobKind::kChat && route.kind != JobKind::kListModels) {
    return reject(Code::kInvalidArgument, "unknown job kind");
  }
  if (jobs_.find(rid) != nullptr) {
    return reject(Code::kInvalidArgument, "request id " + rid + " is already in use");
  }
  Job* job = jobs_.add(rid, frontend, route.kind, now_ms());
  job->frames = env.take_frames();
  job->pin_account = route.pin_account;
  if (route.kind == JobKind::kChat && job->pin_account.empty()) find_session(*job, route);

  Selection sel =
      workers_.select(route.kind, now_unix_ms(),
                      job->has_session ? job->session.account : std::string(), job->pin_account);
  if (sel.action == Selection::Action::kFail) {
    fail_job(rid, sel.code, sel.message, sel.retry_after_s);
    return;
  }
  // FIFO: a job never overtakes queued jobs of its kind, except a pinned
  // one (it never waits: its account is free now or it failed above).
  if (sel.action == Selection::Action::kDispatch &&
      (queue_.count(route.kind) == 0 || !job->pin_account.empty()) && send_job(*job, sel.worker)) {
    return;
  }
  enqueue(*job);
}

// ADMIN from a frontend (the admin API): drain / resume an account here,
// or ask its workers to reload their account file.
void Broker::handle_admin(const std::string& frontend, zmqx::Envelope& env) {
  protocol::AdminCommand c;
  if (Status s = protocol::decode(env.body(), &c); !s.ok()) {
    QP_WARN("broker.bad_admin").kv("frontend", peer_name(frontend)).kv("error", s.message());
    return;
  }
  if (c.action == "drain" || c.action == "resume") {
    bool drain = c.action == "drain";
    if (workers_.draining(c.account) == drain) return;
    workers_.set_draining(c.account, drain);
    save_drained();
    QP_INFO(drain ? "account.drained" : "account.resumed").kv("account", c.account);
    need_dispatch_ = true;
    accounts_changed_ = true;
    return;
  }
  if (c.action == "reload") {
    std::string body = protocol::encode(c);
    int sent = 0;
    for (const WorkerEntry* w : workers_.ordered()) {
      if (w->status.account != c.account) continue;
      auto frames = zmqx::make_frames(Command::kAdmin, {}, body, w->id);
      send_to_worker(frames, w->id);
      ++sent;
    }
    QP_INFO("account.reload_requested").kv("account", c.account).kv("workers", sent);
    return;
  }
  QP_WARN("broker.bad_admin").kv("frontend", peer_name(frontend)).kv("action", c.action);
}

void Broker::set_drain_file(std::string path) {
  drain_file_ = std::move(path);
  if (drain_file_.empty()) return;
  std::ifstream in(drain_file_);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) workers_.set_draining(line, true);
  }
  if (!workers_.drained().empty())
    QP_INFO("broker.drained_accounts")
        .kv("count", static_cast<uint64_t>(workers_.drained().size()))
        .kv("file", drain_file_);
}

void Broker::save_drained() {
  if (drain_file_.empty()) return;
  std::string tmp = drain_file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& a : workers_.drained()) out << a << "\n";
    if (!out) {
      QP_WARN("broker.drain_file_failed").kv("file", drain_file_);
      return;
    }
  }
  if (std::rename(tmp.c_str(), drain_file_.c_str()) != 0)
    QP_WARN("broker.drain_file_failed").kv("file", drain_file_).kv("error", std::strerror(errno));
}

void Broker::handle_frontend_cancel(const std::string& frontend, zmqx::Envelope& env) {
  const std::string rid(env.request_id());
  Job* job = jobs_.find(rid);
  if (job == nullptr || job->frontend != frontend) {
    QP_DEBUG("cancel.unknown_job").kv("request_id", rid).kv("frontend", peer_name(frontend));
    return;
  }
  const std::string worker = job->worker;
  QP_INFO("job.cancelled")
      .kv("request_id", rid)
      .kv("by", "frontend")
      .kv("state", worker.empty() ? "queued" : "in_flight")
      .kv("worker", worker.empty() ? std::string() : peer_name(worker))
      .kv("account", job->account);
  forget_job(rid);
  if (worker.empty()) return;
  jobs_.remember_cancelled(rid, now_ms());
  // Forward the frontend's CANCEL as it is (its body carries the reason).
  zmqx::Frames frames = env.take_frames();
  frames[0].rebuild(worker.data(), worker.size());
  send_to_worker(frames, worker);
}

void Broker::enqueue(Job& job) {
  const std::string rid = job.request_id;
  const std::string frontend = job.frontend;
  if (!queue_.push(rid, job.kind, now_ms())) {
    std::string message = workers_.describe_shortage(now_unix_ms()) + " and the queue is full";
    QP_WARN("job.rejected")
        .kv("request_id", rid)
        .kv("reason", "queue_full")
        .kv("queued", queue_.size())
        .kv("error", message);
    metrics_.count_queue_rejection(/*timeout=*/false);
    jobs_.remove(rid);
    send_error(frontend, rid, Code::kUnavailable, message, kBusyRetryAfterS);
    return;
  }
  queue_changed_ = true;
  QP_INFO("job.queued")
      .kv("request_id", rid)
      .kv("kind", kind_name(job.kind))
      .kv("queued", queue_.size())
      .kv("reason", workers_.describe_shortage(now_unix_ms()));
}

}  // namespace qp::broker
