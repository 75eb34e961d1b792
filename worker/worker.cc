// Worker lifecycle: construction, start, drain and shutdown (worker.h).
#include "worker/worker.h"

#include <algorithm>

#include "common/accounts/credentials.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/uv/callback.h"
#include "worker/worker_job.h"

namespace qp::worker {

using protocol::Command;

namespace {

// Credentials given directly, checked like inline ones.
accounts::LoadedAccount given_account(const AccountConfig& account) {
  accounts::LoadedAccount out;
  out.account = account;
  out.source = account.origin.empty() ? std::string("inline credentials") : account.origin;
  auto facts = accounts::finalize_credentials(&out.account, out.source);
  if (facts) {
    out.facts = facts.value();
  } else {
    out.status = facts.error();
  }
  return out;
}

}  // namespace

Worker::Worker(uv_loop_t* loop, zmq::context_t& ctx, const Config& config,
               const AccountConfig& account)
    : Worker(loop, ctx, config, given_account(account)) {}

Worker::Worker(uv_loop_t* loop, zmq::context_t& ctx, const Config& config,
               accounts::LoadedAccount account)
    : loop_(loop),
      ctx_(ctx),
      config_(config),
      instance_(ids::random_hex(16)),
      multi_(loop),
      deferred_(loop),
      accounts_(loop, &multi_, &deferred_, config, std::move(account), this),
      client_(&multi_, &deferred_, config.upstream, accounts_.account()),
      pool_(&client_, &deferred_, config.worker),
      reaper_(&client_, config.sessions.ttl_ms),
      notices_(loop, &multi_, &deferred_, config.notify.webhook_url) {
  account_ = accounts_.account();
  client_.set_chat_pool(&pool_);
  client_.set_metrics(&metrics_);
}

Worker::~Worker() {
  for (auto& [id, job] : jobs_) job->cancel();
  jobs_.clear();
  list_jobs_ = 0;
  accounts_.stop();
  pool_.stop();
  reaper_.stop();
  client_.abort_background();
  deferred_.flush();
  if (socket_) socket_->close();
  socket_.reset();
}

Status Worker::start() {
  auto link =
      zmqx::load_peer_link(config_, config_.broker.worker_endpoint, "broker.worker_endpoint",
                           "worker.curve_secret_key_file", config_.worker.curve_secret_key_file);
  if (!link) return link.error();
  link_ = std::move(*link);
  Status s = multi_.init();
  if (!s.ok()) return s;
  if (!config_.upstream.record_file.empty()) {
    recorder_ = std::make_unique<UpstreamRecorder>(
        UpstreamRecorder::expand_path(config_.upstream.record_file, account_.name),
        config_.upstream.record_max_bytes);
    s = recorder_->open();
    if (!s.ok()) return s;
    client_.set_recorder(recorder_.get());
  }
  // Reports unusable credentials (health credentials_invalid, before READY
  // carries it) and starts a due sign-in.
  accounts_.start();
  uv_timer_init(loop_, heartbeat_timer_.get());
  heartbeat_timer_.get()->data = this;
  uv_timer_init(loop_, reconnect_timer_.get());
  reconnect_timer_.get()->data = this;
  uv_timer_init(loop_, watchdog_timer_.get());
  watchdog_timer_.get()->data = this;
  uv_timer_init(loop_, drain_timer_.get());
  drain_timer_.get()->data = this;

  connect_socket();
  if (!socket_) return error(Code::kIo, "cannot create the broker socket");
  if (accounts_.usable()) pool_.start();
  reaper_.start();

  uint64_t hb = config_.broker.heartbeat_ms;
  uv_timer_start(heartbeat_timer_.get(), uv::method<&Worker::on_heartbeat_timer>, hb, hb);
  if (uint64_t wd = notify::watchdog_interval_ms(); wd > 0) {
    uint64_t every = std::max<uint64_t>(wd / 2, 1);
    uv_timer_start(
        watchdog_timer_.get(), [](uv_timer_t*) { notify::watchdog(); }, every, every);
  }
  return Status();
}

void Worker::maybe_drained() {
  // Maybe inside a libcurl callback: shut down from the loop.
  if (draining_ && !shutting_down_ && jobs_.size() == list_jobs_) {
    uv_timer_start(drain_timer_.get(), &Worker::on_drain_timer, 0, 0);
  }
}

void Worker::on_drain_timer(uv_timer_t* timer) {
  auto* self = static_cast<Worker*>(timer->data);
  if (self == nullptr) return;
  uv::guarded("worker.drain_exception", [&] {
    if (!self->jobs_.empty()) {
      QP_WARN("worker.drain_cut")
          .kv("account", self->account_.name)
          .kv("in_flight", static_cast<uint64_t>(self->jobs_.size()));
    }
    self->shutdown();
  });
}
// --- shutdown --------------------------------------------------------------

void Worker::drain(uint64_t grace_ms) {
  if (shutting_down_) return;
  if (draining_) {  // a second signal: stop now
    shutdown();
    return;
  }
  draining_ = true;
  const uint64_t chats = jobs_.size() - list_jobs_;
  QP_INFO("worker.draining")
      .kv("account", account_.name)
      .kv("in_flight", chats)
      .kv("grace_ms", grace_ms);
  if (chats == 0) {
    shutdown();
    return;
  }
  pool_.stop();
  send_status(Command::kHeartbeat);  // capacity 0, now
  uv_timer_start(drain_timer_.get(), &Worker::on_drain_timer, grace_ms, 0);
}

void Worker::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  notify::stopping();
  accounts_.stop();
  QP_INFO("worker.stopping")
      .kv("account", account_.name)
      .kv("in_flight", static_cast<uint64_t>(jobs_.size()));
  for (auto& [id, job] : jobs_) {
    job->ended = true;
    job->cancel();
    send_error(id, Code::kUnavailable, "worker shutting down");
    deferred_.add(std::move(job));
  }
  jobs_.clear();
  list_jobs_ = 0;
  pool_.stop();
  reaper_.stop();
  notices_.stop();
  client_.abort_background();
  send(Command::kDisconnect, {}, {});  // empty body: the sender is leaving
  bool broker_alive =
      uv_now(loop_) - last_broker_ms_ <= protocol::kLiveness * config_.broker.heartbeat_ms;
  if (socket_ && broker_alive) {
    // Let the last ERRORs and the DISCONNECT reach a live broker (linger is
    // 0 by default so that a dead broker never delays the exit).
    uv::guarded("worker.linger_exception",
                [&] { socket_->socket().set(zmq::sockopt::linger, 1000); });
  }
  drop_socket();
  uv_timer_stop(heartbeat_timer_.get());
  uv_timer_stop(reconnect_timer_.get());
  uv_timer_stop(watchdog_timer_.get());
  uv_timer_stop(drain_timer_.get());
  deferred_.flush();
  multi_.close();  // idle upstream connections must not keep the loop alive
}

}  // namespace qp::worker
