#include "broker/broker.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "common/fs.h"
#include "common/log.h"
#include "common/protocol/chunk_batch.h"
#include "common/protocol/codec.h"
#include "common/zmq/link_security.h"

namespace qp::broker {
namespace {

using protocol::Command;
using protocol::JobKind;

// How long stop() lets the last ERROR/CANCEL/DISCONNECT messages drain while
// the zmq context terminates.
constexpr int kStopLingerMs = 200;

const char* const kWorkerStopped = "the worker serving this request stopped; please retry";
const char* const kWorkerRestarted = "the worker serving this request restarted; please retry";
const char* const kShuttingDown = "the broker is shutting down; please retry";

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

// Routing ids are opaque bytes (libzmq's own are 5 bytes starting with 0):
// printable ones are logged as they are, others in hex.
std::string peer_name(std::string_view id) {
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

const char* kind_name(JobKind kind) {
  return kind == JobKind::kListModels ? "list_models" : "chat";
}

template <class F>
void guarded(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    QP_ERROR("broker.exception").kv("in", what).kv("error", e.what());
  } catch (...) {
    QP_ERROR("broker.exception").kv("in", what).kv("error", "unknown");
  }
}

}  // namespace

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
        [this] { guarded("worker_link_closed", [&] { on_worker_link_closed(); }); });
    if (Status s = worker_watch_->start(worker_socket_->socket()); !s.ok()) return s;
  }

  uv_timer_init(loop_, tick_timer_.get());
  tick_timer_.get()->data = this;
  uv_timer_start(
      tick_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Broker*>(t->data);
        if (self != nullptr) guarded("tick", [&] { self->on_tick(); });
      },
      config_.heartbeat_ms, config_.heartbeat_ms);
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

// ---- worker side ----------------------------------------------------------

void Broker::on_worker_message(zmqx::Frames&& frames) {
  if (stopped_) return;
  auto parsed = zmqx::Envelope::parse(std::move(frames), /*routed=*/true);
  if (!parsed) {
    QP_WARN("broker.bad_message").kv("side", "worker").kv("error", parsed.error().message());
    return;
  }
  zmqx::Envelope& env = *parsed;
  const std::string worker(env.routing_id());  // short: no allocation on the chunk path
  switch (env.command()) {
    case Command::kReady:
    case Command::kHeartbeat:
      handle_worker_status(worker, env);
      break;
    case Command::kChunks:
      workers_.touch(worker, now_ms());
      handle_worker_chunks(worker, env);
      break;
    case Command::kChunk:
    case Command::kDone:
    case Command::kError:
    case Command::kModels:
      workers_.touch(worker, now_ms());
      handle_worker_reply(worker, env);
      break;
    case Command::kDisconnect:
      if (const WorkerEntry* w = workers_.find(worker)) {
        QP_INFO("worker.disconnected")
            .kv("worker", peer_name(worker))
            .kv("account", w->status.account)
            .kv("jobs", w->in_flight);
        workers_.remove(worker);
        fail_worker_jobs(worker, kWorkerStopped);
        need_dispatch_ = true;
        accounts_changed_ = true;
      }
      break;
    default:
      QP_WARN("broker.unexpected_command")
          .kv("side", "worker")
          .kv("worker", peer_name(worker))
          .kv("command", protocol::command_name(env.command()));
      break;
  }
  settle();
}

void Broker::handle_worker_status(const std::string& worker, const zmqx::Envelope& env) {
  const bool ready = env.command() == Command::kReady;
  const int64_t now = now_ms();
  protocol::WorkerStatus st;
  if (Status s = protocol::decode(env.body(), &st); !s.ok()) {
    QP_WARN("worker.bad_status").kv("worker", peer_name(worker)).kv("error", s.message());
    workers_.touch(worker, now);
    return;
  }
  std::string old_health;
  if (const WorkerEntry* w = workers_.find(worker)) old_health = w->status.health;
  switch (workers_.update(worker, st, now)) {
    case Registration::kNew:
      QP_INFO("worker.registered")
          .kv("worker", peer_name(worker))
          .kv("account", st.account)
          .kv("capacity", st.capacity)
          .kv("health", st.health)
          .kv("via", ready ? "ready" : "heartbeat");
      send_status(worker, /*to_worker=*/true, status_body());
      accounts_changed_ = true;
      break;
    case Registration::kRestarted:
      QP_WARN("worker.restarted").kv("worker", peer_name(worker)).kv("account", st.account);
      fail_worker_jobs(worker, kWorkerRestarted);
      send_status(worker, /*to_worker=*/true, status_body());
      accounts_changed_ = true;
      break;
    case Registration::kUpdated:
      if (old_health != st.health) {
        QP_INFO("worker.health")
            .kv("worker", peer_name(worker))
            .kv("account", st.account)
            .kv("from", old_health)
            .kv("to", st.health);
        accounts_changed_ = true;
      }
      break;
  }
  // Capacity, health or a new worker: queued jobs may be able to run.
  need_dispatch_ = true;
}

const std::string* Broker::chunk_destination(const std::string& worker, std::string_view rid) {
  Job* job = jobs_.find(rid);
  if (job == nullptr || job->worker != worker) {
    if (jobs_.was_cancelled(rid)) return nullptr;  // already told the worker
    QP_INFO("chunk.unknown_job").kv("request_id", rid).kv("worker", peer_name(worker));
    jobs_.remember_cancelled(rid, now_ms());
    protocol::Cancel c{std::string(rid), "unknown job"};
    auto frames = zmqx::make_frames(Command::kCancel, rid, protocol::encode(c), worker);
    send_to_worker(frames, worker);
    return nullptr;
  }
  if (!job->forwarded) {
    job->forwarded = true;
    zmqx::Frames().swap(job->frames);  // no failover from here on
  }
  return &job->frontend;
}

void Broker::handle_worker_chunks(const std::string& worker, zmqx::Envelope& env) {
  protocol::ChunkBatchReader reader(env.body());
  protocol::ChunkEntry entry;
  chunk_routes_.clear();
  bool whole = true;  // every entry goes to one frontend: forward the message as received
  while (reader.next(&entry)) {
    const std::string* frontend = chunk_destination(worker, entry.request_id);
    if (frontend == nullptr) {
      whole = false;
      continue;
    }
    if (!chunk_routes_.empty() && *chunk_routes_.front().first != *frontend) whole = false;
    chunk_routes_.emplace_back(frontend, entry.bytes);
  }
  if (reader.malformed()) {
    QP_WARN("broker.bad_message").kv("side", "worker").kv("error", "malformed CHUNKS batch");
    whole = false;
  }
  QP_DEBUG("job.chunks")
      .kv("entries", static_cast<uint64_t>(chunk_routes_.size()))
      .kv("bytes", static_cast<uint64_t>(env.body().size()));
  if (chunk_routes_.empty()) return;
  if (whole) {
    const std::string frontend = *chunk_routes_.front().first;
    zmqx::Frames frames = env.take_frames();
    frames[0].rebuild(frontend.data(), frontend.size());
    send_to_frontend(frames, frontend);
    return;
  }
  // Split per frontend, copying each entry's bytes (bodies are not decoded);
  // entries keep their order within each frontend's batch.
  for (size_t i = 0; i < chunk_routes_.size(); ++i) {
    const std::string* frontend = chunk_routes_[i].first;
    if (frontend == nullptr) continue;  // sent with an earlier frontend's batch
    std::string batch;
    for (size_t j = i; j < chunk_routes_.size(); ++j) {
      if (chunk_routes_[j].first == nullptr || *chunk_routes_[j].first != *frontend) continue;
      batch.append(chunk_routes_[j].second);
      if (j != i) chunk_routes_[j].first = nullptr;
    }
    const std::string to = *frontend;
    auto frames = zmqx::make_frames(Command::kChunks, {}, batch, to);
    send_to_frontend(frames, to);
  }
}

void Broker::handle_worker_reply(const std::string& worker, zmqx::Envelope& env) {
  const Command cmd = env.command();
  const std::string_view rid = env.request_id();
  if (cmd == Command::kChunk) {
    const std::string* destination = chunk_destination(worker, rid);
    if (destination == nullptr) return;
    const std::string frontend = *destination;  // short: no allocation
    QP_DEBUG("job.chunk")
        .kv("request_id", rid)
        .kv("bytes", static_cast<uint64_t>(env.body().size()));
    zmqx::Frames frames = env.take_frames();
    frames[0].rebuild(frontend.data(), frontend.size());
    send_to_frontend(frames, frontend);
    return;
  }
  Job* job = jobs_.find(rid);
  if (job == nullptr || job->worker != worker) {
    // The job ended here already (cancelled, worker given up on): nothing to route.
    QP_DEBUG("reply.unknown_job")
        .kv("request_id", rid)
        .kv("worker", peer_name(worker))
        .kv("command", protocol::command_name(cmd));
    jobs_.forget_cancelled(rid);
    return;
  }
  const std::string frontend = job->frontend;  // short: no allocation

  std::string error_code;
  std::string error_message;
  if (cmd == Command::kError) {
    // Terminal and rare: decoded for failover and the log line, else forwarded untouched.
    protocol::JobError e;
    if (protocol::decode(env.body(), &e).ok()) {
      if (failover(std::string(rid), worker, e)) return;
      error_code = std::string(code_name(e.code));
      error_message = std::move(e.message);
    }
  }
  QP_INFO("job.finished")
      .kv("request_id", rid)
      .kv("result", protocol::command_name(cmd))
      .kv("worker", peer_name(worker))
      .kv("account", job->account)
      .kv("duration_ms", now_ms() - job->dispatched_ms)
      .kv("code", error_code)
      .kv("error", error_message);
  if (cmd == Command::kDone) record_session(worker, env);
  forget_job(std::string(rid));
  zmqx::Frames frames = env.take_frames();
  frames.resize(env.base() + 4);  // a DONE's SESSION frame is the broker's alone
  frames[0].rebuild(frontend.data(), frontend.size());
  send_to_frontend(frames, frontend);
}

bool Broker::send_job(Job& job, const std::string& worker) {
  auto conversation = BrokerMetrics::Conversation::kNew;
  std::string resume;
  if (job.has_session) conversation = attach_continuation(job, worker, &resume);
  // The job keeps its frames until its first CHUNK, for failover (the send
  // consumes what it sends). zmq_msg_copy shares the data of large frames
  // (reference-counted): the body is not copied.
  zmqx::Frames out(job.frames.size());
  for (size_t i = 0; i < job.frames.size(); ++i) out[i].copy(job.frames[i]);
  out[0].rebuild(worker.data(), worker.size());
  if (!resume.empty()) out.emplace_back(resume.data(), resume.size());
  if (!send_to_worker(out, worker)) {
    if (!job.continued_chat.empty()) busy_chats_.erase(job.continued_chat);
    job.continued_chat.clear();
    return false;
  }
  if (job.kind == JobKind::kChat) metrics_.count_conversation(conversation);
  // Capacity is the account's concurrent chats; model-list jobs have their
  // own small limit in the worker and must not block chats.
  if (job.kind == JobKind::kChat) workers_.assign(worker);
  const WorkerEntry* w = workers_.find(worker);
  job.worker = worker;
  job.account = w != nullptr ? w->status.account : std::string();
  job.dispatched_ms = now_ms();
  QP_INFO("job.dispatched")
      .kv("request_id", job.request_id)
      .kv("kind", kind_name(job.kind))
      .kv("worker", peer_name(worker))
      .kv("account", job.account)
      .kv("in_flight", w != nullptr ? w->in_flight : 0u)
      .kv("waited_ms", job.dispatched_ms - job.received_ms)
      .kv("continues_chat", job.continued_chat);
  return true;
}

// ---- conversations ----------------------------------------------------------

void Broker::find_session(Job& job, const protocol::JobRoute& req) {
  if (sessions_ == nullptr) return;
  const int64_t now = now_unix_ms();
  std::optional<Session> found;
  if (!req.chat_id.empty()) {
    // qwen_chat_id override: that chat, from its newest known message (a chat
    // this gateway never saw continues from its root: parent unknown).
    found = sessions_->find_by_chat(req.chat_id, now);
    if (!found) {
      found.emplace();
      found->chat_id = req.chat_id;
      found->model = req.model;
    }
  } else if (!req.history_key.empty()) {
    found = sessions_->find(req.history_key, now);
    if (found && found->model != req.model) {
      QP_INFO("session.model_changed")
          .kv("request_id", job.request_id)
          .kv("chat_id", found->chat_id)
          .kv("from", found->model)
          .kv("to", req.model);
      found.reset();  // a new chat for the new model, with the whole history
    }
  }
  QP_DEBUG("session.lookup")
      .kv("request_id", job.request_id)
      .kv("key", req.history_key.substr(0, 16))
      .kv("found", found.has_value());
  if (!found) return;
  job.has_session = true;
  job.session = std::move(*found);
}

BrokerMetrics::Conversation Broker::attach_continuation(Job& job, const std::string& worker,
                                                        std::string* resume) {
  using Conversation = BrokerMetrics::Conversation;
  const WorkerEntry* w = workers_.find(worker);
  std::string reason;
  Conversation mode = Conversation::kReplayed;
  if (w == nullptr) {
    reason = "worker unknown";
  } else if (!job.session.account.empty() && w->status.account != job.session.account) {
    reason = "account " + job.session.account + " cannot take it now";
  } else if (busy_chats_.count(job.session.chat_id) != 0) {
    reason = "chat busy with another request";
    mode = Conversation::kForked;
  }
  if (!reason.empty()) {
    QP_INFO("session.replay")
        .kv("request_id", job.request_id)
        .kv("chat_id", job.session.chat_id)
        .kv("reason", reason);
    return mode;  // no RESUME frame: the worker starts a new chat
  }
  protocol::Continuation c{job.session.chat_id, job.session.parent_id, job.session.system_hash,
                           job.session.tools_hash};
  protocol::encode(c, resume);
  job.continued_chat = job.session.chat_id;
  busy_chats_.emplace(job.session.chat_id, job.request_id);
  return Conversation::kContinued;
}

bool Broker::failover(const std::string& request_id, const std::string& worker,
                      const protocol::JobError& e) {
  if (e.account_health.empty()) return false;
  const WorkerEntry* w = workers_.find(worker);
  if (w != nullptr) {
    const std::string account = w->status.account;
    workers_.set_account_health(account, e.account_health, e.health_until_unix_ms);
  }
  Job* job = jobs_.find(request_id);
  if (job == nullptr || job->kind != JobKind::kChat || job->forwarded ||
      !job->pin_account.empty() || job->frames.empty() || job->failovers >= kMaxFailovers) {
    return false;
  }
  // Only if another account can take it now or soon; else the worker's own
  // error (which says what is wrong with this account) goes to the client.
  Selection sel = workers_.select(JobKind::kChat, now_unix_ms());
  if (sel.action == Selection::Action::kFail) return false;
  const std::string from_account = job->account;
  detach(*job);
  ++job->failovers;
  metrics_.count_failover();
  need_dispatch_ = true;
  QP_WARN("job.failover")
      .kv("request_id", request_id)
      .kv("from_account", from_account)
      .kv("account_health", e.account_health)
      .kv("code", code_name(e.code))
      .kv("attempt", job->failovers)
      .kv("error", e.message);
  if (sel.action == Selection::Action::kDispatch && queue_.count(JobKind::kChat) == 0 &&
      send_job(*job, sel.worker)) {
    return true;
  }
  enqueue(*job);
  return true;
}

bool Broker::requeue_lost(const std::string& request_id) {
  Job* job = jobs_.find(request_id);
  if (job == nullptr || job->kind != JobKind::kChat || job->forwarded || job->frames.empty() ||
      job->requeues >= kMaxRequeues) {
    return false;
  }
  const std::string from_account = job->account;
  detach(*job);
  ++job->requeues;
  metrics_.count_requeue();
  need_dispatch_ = true;
  QP_WARN("job.requeued")
      .kv("request_id", request_id)
      .kv("from_account", from_account)
      .kv("reason", "worker lost before any output");
  enqueue(*job);
  return true;
}

void Broker::detach(Job& job) {
  workers_.release(job.worker);
  if (!job.continued_chat.empty()) {
    auto it = busy_chats_.find(job.continued_chat);
    if (it != busy_chats_.end() && it->second == job.request_id) busy_chats_.erase(it);
    job.continued_chat.clear();
  }
  job.worker.clear();
  job.account.clear();
  job.dispatched_ms = 0;
}

void Broker::record_session(const std::string& worker, const zmqx::Envelope& env) {
  if (sessions_ == nullptr || env.extra_count() == 0) return;
  protocol::SessionUpdate done;
  if (Status s = protocol::decode(env.extra(0), &done); !s.ok()) {
    QP_WARN("session.bad_update").kv("worker", peer_name(worker)).kv("error", s.message());
    return;
  }
  if (done.session_key.empty() || done.chat_id.empty()) return;
  Session session;
  session.account = done.account;
  session.chat_id = std::move(done.chat_id);
  session.parent_id = std::move(done.parent_id);
  session.model = std::move(done.model);
  session.system_hash = std::move(done.system_hash);
  session.tools_hash = std::move(done.tools_hash);
  session.last_used_unix_ms = now_unix_ms();
  sessions_->put(done.session_key, session);
  // Committed before the DONE is forwarded: a client that has seen the reply
  // can continue the conversation even if the broker dies right after.
  sessions_->flush();
}

// ---- ending jobs ----------------------------------------------------------

void Broker::forget_job(const std::string& request_id) {
  const std::string rid = request_id;  // the argument may be the job's own key
  Job* job = jobs_.find(rid);
  if (job == nullptr) return;
  if (!job->worker.empty() && job->kind == JobKind::kChat) {
    workers_.release(job->worker);
    need_dispatch_ = true;
  }
  if (!job->continued_chat.empty()) {
    auto it = busy_chats_.find(job->continued_chat);
    if (it != busy_chats_.end() && it->second == rid) busy_chats_.erase(it);
  }
  if (queue_.remove(rid)) queue_changed_ = true;
  jobs_.remove(rid);
}

void Broker::fail_job(const std::string& request_id, Code code, const std::string& message,
                      int64_t retry_after_s) {
  const std::string rid = request_id;
  Job* job = jobs_.find(rid);
  if (job == nullptr) return;
  const std::string frontend = job->frontend;
  QP_WARN("job.failed")
      .kv("request_id", rid)
      .kv("worker", job->worker.empty() ? std::string() : peer_name(job->worker))
      .kv("account", job->account)
      .kv("code", code_name(code))
      .kv("retry_after_s", retry_after_s)
      .kv("error", message);
  forget_job(rid);
  send_error(frontend, rid, code, message, retry_after_s);
}

void Broker::cancel_job(const std::string& request_id, std::string_view reason) {
  const std::string rid = request_id;
  Job* job = jobs_.find(rid);
  if (job == nullptr) return;
  const std::string worker = job->worker;
  QP_INFO("job.cancelled")
      .kv("request_id", rid)
      .kv("by", "broker")
      .kv("reason", reason)
      .kv("state", worker.empty() ? "queued" : "in_flight")
      .kv("account", job->account);
  forget_job(rid);
  if (worker.empty()) return;
  jobs_.remember_cancelled(rid, now_ms());
  protocol::Cancel c{rid, std::string(reason)};
  auto frames = zmqx::make_frames(Command::kCancel, rid, protocol::encode(c), worker);
  send_to_worker(frames, worker);
}

void Broker::fail_worker_jobs(const std::string& worker, const std::string& message) {
  for (const std::string& rid : jobs_.of_worker(worker)) {
    if (!requeue_lost(rid)) fail_job(rid, Code::kUpstream, message, 0);
  }
}

void Broker::cancel_frontend_jobs(const std::string& frontend, std::string_view reason) {
  for (const std::string& rid : jobs_.of_frontend(frontend)) cancel_job(rid, reason);
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
  const int64_t now = now_ms();
  for (const WorkerEntry& w : workers_.expire(now)) {
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
  for (const std::string& f : frontends_.expire(now)) {
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
  uv_timer_start(
      queue_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Broker*>(t->data);
        if (self != nullptr) guarded("queue_timer", [&] { self->on_queue_timer(); });
      },
      delay, 0);
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
