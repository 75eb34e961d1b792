#include "broker/broker.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "broker/broker_internal.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/protocol/codec.h"
#include "common/uv/callback.h"
#include "common/zmq/link_security.h"

namespace qp::broker {
namespace {

using internal::kShuttingDown;
using internal::kWorkerStopped;
using internal::peer_name;
using protocol::Command;
using protocol::JobKind;

// How long stop() lets the last ERROR/CANCEL/DISCONNECT messages drain while
// the zmq context terminates.
constexpr int kStopLingerMs = 200;

BrokerConfig normalised(BrokerConfig c) {
  if (c.heartbeat_ms == 0) c.heartbeat_ms = protocol::kDefaultHeartbeatIntervalMs;
  return c;
}

std::string random_instance() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned long long> dist;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", dist(rd));
  return buf;
}

}  // namespace

std::string internal::peer_name(std::string_view id) {
  bool printable =
      !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (printable) return std::string(id);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (unsigned char c : id) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Broker::Broker(uv_loop_t* loop, zmq::context_t& context, const BrokerConfig& config,
               std::string instance, SessionStore* sessions)
    : loop_(loop),
      context_(context),
      config_(normalised(config)),
      instance_(instance.empty() ? random_instance() : std::move(instance)),
      workers_(config_.heartbeat_ms),
      frontends_(config_.heartbeat_ms),
      jobs_(std::max<int64_t>(30'000, 10 * static_cast<int64_t>(config_.heartbeat_ms))),
      queue_(config_.queue_limit, config_.queue_timeout_ms),
      sessions_(sessions) {}

Broker::~Broker() { stop(); }

int64_t Broker::now_ms() const { return static_cast<int64_t>(uv_now(loop_)); }

int64_t Broker::now_unix_ms() { return uv::now_unix_ms(); }

// ---- lifecycle ------------------------------------------------------------

Status Broker::start() {
  if (started_) return error(Code::kInternal, "broker already started");
  started_ = true;
  for (const std::string* ep : {&config_.frontend_endpoint, &config_.worker_endpoint}) {
    Status s = fs::ensure_ipc_directory(*ep);
    if (!s.ok()) return s;
  }
  // tcp:// links: CurveZMQ with the ZAP handler, or refused (link_security.h).
  const std::vector<zmqx::KeySetting> keys = {
      {"broker.curve_secret_key_file", config_.curve_secret_key_file},
      {"broker.authorized_keys_dir", config_.authorized_keys_dir}};
  auto fplan = zmqx::plan_link(config_.frontend_endpoint, "broker.frontend_endpoint", keys,
                               config_.allow_plaintext_tcp);
  if (!fplan) return fplan.error();
  auto wplan = zmqx::plan_link(config_.worker_endpoint, "broker.worker_endpoint", keys,
                               config_.allow_plaintext_tcp);
  if (!wplan) return wplan.error();
  zmqx::CurveKeypair own;
  if (fplan->curve || wplan->curve) {
    auto loaded = zmqx::load_secret_key(config_.curve_secret_key_file);
    if (!loaded) return loaded.error();
    own = std::move(*loaded);
    zap_ = std::make_unique<ZapHandler>(loop_, context_, config_.authorized_keys_dir);
    if (Status s = zap_->start(); !s.ok()) return s;
  }
  const zmqx::LinkTiming timing = zmqx::link_timing(config_);
  auto bind = [&](const std::string& endpoint, const char* what, const zmqx::LinkPlan& plan,
                  std::string* bound) -> Result<zmq::socket_t> {
    try {
      zmq::socket_t s(context_, zmq::socket_type::router);
      zmqx::set_common_options(s);
      s.set(zmq::sockopt::router_mandatory, 1);
      s.set(zmq::sockopt::router_handover, 1);
      zmqx::apply_server_link(s, plan, timing, own, std::string(what) + "s");
      s.bind(endpoint);
      *bound = s.get(zmq::sockopt::last_endpoint);
      return s;
    } catch (const zmq::error_t& e) {
      return error(Code::kIo, std::string("cannot bind the ") + what + " endpoint " + endpoint +
                                  ": " + e.what());
    }
  };
  auto fsock = bind(config_.frontend_endpoint, "frontend", *fplan, &frontend_endpoint_);
  if (!fsock) return fsock.error();
  auto wsock = bind(config_.worker_endpoint, "worker", *wplan, &worker_endpoint_);
  if (!wsock) return wsock.error();

  frontend_socket_ = std::make_unique<zmqx::UvSocket>(
      loop_, std::move(*fsock), [this](zmqx::Frames&& f) { on_frontend_message(std::move(f)); });
  worker_socket_ = std::make_unique<zmqx::UvSocket>(
      loop_, std::move(*wsock), [this](zmqx::Frames&& f) { on_worker_message(std::move(f)); });
  if (Status s = frontend_socket_->start(); !s.ok()) return s;
  if (Status s = worker_socket_->start(); !s.ok()) return s;
  if (wplan->tcp) {
    // libzmq closes a worker link whose heartbeats time out: probe the
    // workers then rather than at the next tick (the failed send names it).
    worker_watch_ = std::make_unique<zmqx::DisconnectWatch>(
        loop_, context_, "broker-workers",
        [this] { uv::guarded("broker.worker_link_closed", [&] { on_worker_link_closed(); }); });
    if (Status s = worker_watch_->start(worker_socket_->socket()); !s.ok()) return s;
  }

  uv_timer_init(loop_, tick_timer_.get());
  tick_timer_.get()->data = this;
  uv_timer_start(tick_timer_.get(), uv::method<&Broker::on_tick>, config_.heartbeat_ms,
                 config_.heartbeat_ms);
  uv_timer_init(loop_, queue_timer_.get());
  queue_timer_.get()->data = this;

  running_ = true;
  QP_INFO("broker.started")
      .kv("instance", instance_)
      .kv("frontend_endpoint", frontend_endpoint_)
      .kv("worker_endpoint", worker_endpoint_)
      .kv("frontend_security", !fplan->tcp    ? "local"
                               : fplan->curve ? "curve"
                                              : "plaintext")
      .kv("worker_security", !wplan->tcp    ? "local"
                             : wplan->curve ? "curve"
                                            : "plaintext")
      .kv("heartbeat_ms", config_.heartbeat_ms)
      .kv("queue_limit", config_.queue_limit)
      .kv("queue_timeout_ms", config_.queue_timeout_ms);
  return Status();
}

void Broker::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (running_) {
    size_t ended = 0;
    for (const std::string& rid : jobs_.all()) {
      Job* job = jobs_.find(rid);
      if (job == nullptr) continue;
      std::string frontend = job->frontend;
      std::string worker = job->worker;
      forget_job(rid);
      if (!worker.empty()) {
        protocol::Cancel c{rid, "broker shutting down"};
        auto frames = zmqx::make_frames(Command::kCancel, rid, protocol::encode(c), worker);
        send_to_worker(frames, worker);
      }
      send_error(frontend, rid, Code::kUnavailable, kShuttingDown, 1);
      ++ended;
    }
    for (const std::string& w : workers_.ids()) {
      auto frames = zmqx::make_frames(Command::kDisconnect, {}, {}, w);
      send_to_worker(frames, w);
    }
    QP_INFO("broker.stopped")
        .kv("jobs_ended", static_cast<uint64_t>(ended))
        .kv("workers", workers_.size());
  }
  if (worker_watch_) worker_watch_->close();
  for (auto* sock : {frontend_socket_.get(), worker_socket_.get()}) {
    if (sock == nullptr) continue;
    try {
      sock->socket().set(zmq::sockopt::linger, kStopLingerMs);
    } catch (const zmq::error_t&) {
      // Already closed: nothing to flush.
    }
    sock->close();
  }
  if (zap_) zap_->close();
  tick_timer_.reset();
  queue_timer_.reset();
  dead_workers_.clear();
  dead_frontends_.clear();
}

// ---- sending --------------------------------------------------------------

bool Broker::send_to_worker(zmqx::Frames& frames, const std::string& worker) {
  if (worker_socket_ != nullptr && worker_socket_->send(frames)) return true;
  if (stopped_) return false;
  // ROUTER_MANDATORY: the peer is gone (or so far behind that its queue is full).
  if (const WorkerEntry* w = workers_.find(worker)) {
    QP_WARN("worker.unreachable").kv("worker", peer_name(worker)).kv("account", w->status.account);
    workers_.remove(worker);
    accounts_changed_ = true;
  }
  dead_workers_.push_back(worker);
  need_dispatch_ = true;
  return false;
}

bool Broker::send_to_frontend(zmqx::Frames& frames, const std::string& frontend) {
  if (frontend_socket_ != nullptr && frontend_socket_->send(frames)) return true;
  if (stopped_) return false;
  if (frontends_.remove(frontend))
    QP_WARN("frontend.unreachable").kv("frontend", peer_name(frontend));
  dead_frontends_.push_back(frontend);
  return false;
}

void Broker::send_error(const std::string& frontend, std::string_view request_id, Code code,
                        const std::string& message, int64_t retry_after_s) {
  if (frontend.empty()) return;
  protocol::JobError e;
  e.request_id = std::string(request_id);
  e.code = code;
  e.message = message;
  e.retry_after_s = retry_after_s;
  auto frames = zmqx::make_frames(Command::kError, request_id, protocol::encode(e), frontend);
  send_to_frontend(frames, frontend);
}

std::string Broker::status_body(bool with_metrics) {
  protocol::BrokerStatus st;
  st.instance = instance_;
  st.workers = static_cast<uint32_t>(workers_.size());
  st.queued = static_cast<uint32_t>(queue_.size());
  st.accounts = workers_.summaries();
  if (with_metrics) metrics_.collect(workers_, queue_.size(), now_unix_ms() / 1000, &st.metrics);
  return protocol::encode(st);
}

void Broker::send_status(const std::string& peer, bool to_worker, const std::string& body) {
  auto frames = zmqx::make_frames(Command::kHeartbeat, {}, body, peer);
  if (to_worker) {
    send_to_worker(frames, peer);
  } else {
    send_to_frontend(frames, peer);
  }
}

void Broker::on_worker_link_closed() {
  if (stopped_) return;
  // Refused handshakes close connections too: at most one probe per quarter
  // heartbeat, so a stranger reconnecting in a loop cannot make the broker
  // flood its workers (a link missed here is found by the next tick).
  const int64_t now = now_ms();
  if (last_probe_ms_ >= 0 && now - last_probe_ms_ < static_cast<int64_t>(config_.heartbeat_ms / 4))
    return;
  last_probe_ms_ = now;
  const std::string body = status_body();
  for (const std::string& w : workers_.ids()) send_status(w, /*to_worker=*/true, body);
  settle();
}

void Broker::heartbeat_all() {
  // Workers get no metrics: only frontends serve them.
  const std::string body = status_body();
  for (const std::string& w : workers_.ids()) send_status(w, /*to_worker=*/true, body);
  const auto frontends = frontends_.ids();
  if (frontends.empty()) return;
  const std::string with_metrics = status_body(/*with_metrics=*/true);
  for (const std::string& f : frontends) send_status(f, /*to_worker=*/false, with_metrics);
}

// ---- timers -----------------------------------------------------------------

void Broker::on_tick() {
  if (stopped_) return;
  uv_update_time(loop_);
  const int64_t now = now_ms();
  // Silence is proven only up to what this loop has read (see SilenceClock):
  // a peer whose heartbeats wait unread in our socket is not expired, and
  // nobody is on the first tick after a stall of this loop.
  auto heard = [now](uv::SilenceClock& clock, zmqx::UvSocket* socket) {
    if (socket == nullptr) return std::optional<uint64_t>(static_cast<uint64_t>(now));
    return clock.tick(static_cast<uint64_t>(now), socket->readable(), socket->caught_up_ms());
  };
  const auto workers_heard = heard(worker_silence_, worker_socket_.get());
  const auto frontends_heard = heard(frontend_silence_, frontend_socket_.get());
  if (!workers_heard)
    QP_WARN("broker.loop_stalled").kv("stall_ms", worker_silence_.last_stall_ms());
  const std::vector<WorkerEntry> dead_workers =
      workers_heard ? workers_.expire(static_cast<int64_t>(*workers_heard))
                    : std::vector<WorkerEntry>{};
  for (const WorkerEntry& w : dead_workers) {
    QP_WARN("worker.expired")
        .kv("worker", peer_name(w.id))
        .kv("account", w.status.account)
        .kv("silent_ms", now - w.last_seen_ms)
        .kv("jobs", w.in_flight);
    accounts_changed_ = true;
    fail_worker_jobs(w.id, kWorkerStopped);
    // In case it is alive after all: it should forget its jobs and register again.
    auto frames = zmqx::make_frames(Command::kDisconnect, {}, {}, w.id);
    if (worker_socket_ != nullptr) worker_socket_->send(frames);
  }
  const std::vector<std::string> dead_frontends =
      frontends_heard ? frontends_.expire(static_cast<int64_t>(*frontends_heard))
                      : std::vector<std::string>{};
  for (const std::string& f : dead_frontends) {
    QP_WARN("frontend.expired").kv("frontend", peer_name(f));
    cancel_frontend_jobs(f, "frontend stopped responding");
  }
  jobs_.purge_cancelled(now);
  if (sessions_ != nullptr) sessions_->evict(now_unix_ms());
  need_dispatch_ = true;  // rate limits may have lifted
  settle();
  heartbeat_all();
  settle();
}

void Broker::on_queue_timer() {
  if (stopped_) return;
  for (const QueuedJob& q : queue_.expire(now_ms())) {
    queue_changed_ = true;
    std::string message = "timed out after " + std::to_string(queue_.timeout_ms()) +
                          " ms waiting for a worker: " + workers_.describe_shortage(now_unix_ms());
    metrics_.count_queue_rejection(/*timeout=*/true);
    fail_job(q.request_id, Code::kUnavailable, message, kBusyRetryAfterS);
  }
  settle();
}

void Broker::rearm_queue_timer() {
  if (stopped_ || queue_timer_.get() == nullptr || queue_timer_.base()->type == UV_UNKNOWN_HANDLE) {
    return;
  }
  auto deadline = queue_.next_deadline_ms();
  if (!deadline) {
    uv_timer_stop(queue_timer_.get());
    return;
  }
  auto delay = static_cast<uint64_t>(std::max<int64_t>(0, *deadline - now_ms()));
  uv_timer_start(queue_timer_.get(), uv::method<&Broker::on_queue_timer>, delay, 0);
}

// ---- end-of-event work ----------------------------------------------------

void Broker::settle() {
  // Each pass removes jobs or workers, so this ends; the bound is a backstop
  // (leftover work is picked up by the next event or tick).
  for (int pass = 0; pass < 16; ++pass) {
    while (!dead_workers_.empty() || !dead_frontends_.empty()) {
      auto dead_workers = std::exchange(dead_workers_, {});
      auto dead_frontends = std::exchange(dead_frontends_, {});
      for (const std::string& w : dead_workers) fail_worker_jobs(w, kWorkerStopped);
      for (const std::string& f : dead_frontends) cancel_frontend_jobs(f, "frontend unreachable");
    }
    if (!need_dispatch_) break;
    need_dispatch_ = false;
    dispatch_queue();
  }
  if (queue_changed_) {
    queue_changed_ = false;
    rearm_queue_timer();
  }
  // A worker came, went, changed health, or an account was drained: the
  // frontends (their /health, routing hints and consoles) learn it now
  // rather than at the next heartbeat.
  if (accounts_changed_) {
    accounts_changed_ = false;
    // With the metrics: a frontend replaces the whole status it keeps.
    const std::string body = status_body(/*with_metrics=*/true);
    for (const std::string& f : frontends_.ids()) send_status(f, /*to_worker=*/false, body);
  }
  if (sessions_ != nullptr) sessions_->flush();
}

void Broker::dispatch_queue() {
  if (queue_.empty()) return;
  bool chat_blocked = false;
  bool list_blocked = false;
  const int64_t now_unix = now_unix_ms();
  // Each pass blocks a kind, removes a job, or (failed send) removes a worker.
  while (const QueuedJob* q = queue_.first(chat_blocked, list_blocked)) {
    const std::string rid = q->request_id;
    const JobKind kind = q->kind;
    Job* job = jobs_.find(rid);
    if (job == nullptr || job->frames.empty()) {
      QP_ERROR("broker.queue_inconsistent").kv("request_id", rid);  // a bug; do not spin
      queue_.remove(rid);
      jobs_.remove(rid);
      queue_changed_ = true;
      continue;
    }
    Selection sel = workers_.select(
        kind, now_unix, job->has_session ? job->session.account : std::string(), job->pin_account);
    if (sel.action == Selection::Action::kQueue) {
      (kind == JobKind::kListModels ? list_blocked : chat_blocked) = true;
      continue;
    }
    if (sel.action == Selection::Action::kFail) {
      fail_job(rid, sel.code, sel.message, sel.retry_after_s);  // removes it from the queue
      continue;
    }
    if (send_job(*job, sel.worker)) {
      queue_.remove(rid);
      queue_changed_ = true;
    }
  }
}

}  // namespace qp::broker
