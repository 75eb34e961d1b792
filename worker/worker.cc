#include "worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <exception>

#include "common/accounts/credentials.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/model_variants.h"
#include "common/notify.h"
#include "common/protocol/chunk_batch.h"
#include "common/protocol/codec.h"
#include "common/uv/callback.h"
#include "common/zmq/envelope.h"
#include "worker/media_call.h"

namespace qp::worker {

using protocol::Command;

// One in-flight job: routes the upstream call's callbacks to the Worker.
struct Worker::Job final : ChatHandler, ModelsHandler {
  Worker* worker = nullptr;
  std::string request_id;
  protocol::JobKind kind = protocol::JobKind::kChat;
  std::unique_ptr<ChatCall> chat;
  std::unique_ptr<ModelsCall> models;
  std::unique_ptr<MediaCall> media;  // image / video variants
  uint64_t started_ms = 0;
  uint64_t health_epoch = 0;  // Worker::health_epoch_ when the job started
  uint64_t chunks = 0;
  bool ended = false;

  void cancel() {
    if (chat) chat->cancel();
    if (models) models->cancel();
    if (media) media->cancel();
  }
  void on_chat_delta(protocol::JobChunk& chunk) override { worker->job_delta(this, chunk); }
  void on_chat_done(const ChatResult& result) override { worker->job_done(this, result); }
  void on_chat_error(const UpstreamFailure& f) override { worker->job_error(this, f); }
  void on_models(std::vector<protocol::ModelInfo> list) override {
    worker->job_models(this, std::move(list));
  }
  void on_models_error(const UpstreamFailure& f) override { worker->job_error(this, f); }
};

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
  if (!socket_) return;
  uint64_t silent_ms = uv_now(loop_) - last_broker_ms_;
  if (silent_ms > protocol::kLiveness * config_.broker.heartbeat_ms && socket_->readable()) {
    // Unread messages prove the broker is alive: this loop was only busy
    // (thousands of streams) and has not read them yet.
    last_broker_ms_ = uv_now(loop_);
    silent_ms = 0;
  }
  if (silent_ms > protocol::kLiveness * config_.broker.heartbeat_ms) {
    schedule_reconnect(backoff_ms_, "broker_silent");
    return;
  }
  send_status(Command::kHeartbeat);
}

// --- jobs ------------------------------------------------------------------

void Worker::on_job(std::string_view request_id, std::string_view body, std::string_view resume) {
  protocol::JobRequest req;
  Status s = protocol::decode(body, &req);
  if (s.ok() && !resume.empty()) s = protocol::decode(resume, &req.resume);
  if (!s.ok()) {
    QP_WARN("job.bad_request").kv("request_id", request_id).kv("error", s.message());
    if (!request_id.empty())
      send_error(request_id, Code::kProtocol, "malformed JOB: " + s.message());
    return;
  }
  if (!request_id.empty()) req.request_id = std::string(request_id);  // the routing id wins
  if (req.request_id.empty()) {
    QP_WARN("job.no_request_id");
    return;
  }
  if (shutting_down_) {
    send_error(req.request_id, Code::kUnavailable, "worker shutting down");
    return;
  }
  if (!accounts_.usable()) {
    // The broker fails this over to another account (the detail, which may
    // name files, goes to /health, not to clients).
    send_error(req.request_id, Code::kUpstreamAuth,
               "account " + account_.name + " has no usable credentials (see /health)", 0,
               protocol::kHealthCredentialsInvalid);
    return;
  }
  if (jobs_.count(req.request_id) != 0) {
    QP_WARN("job.duplicate").kv("request_id", req.request_id);
    return;
  }
  // Capacity bounds concurrent chats. Model lists are cheap and the broker
  // sends them regardless of load (they must not wait behind long chats),
  // so they have their own small bound.
  bool list = req.kind == protocol::JobKind::kListModels;
  size_t same_kind = list ? list_jobs_ : jobs_.size() - list_jobs_;
  size_t limit = list ? kMaxListJobs : account_.capacity;
  if (same_kind >= limit) {
    QP_WARN("job.over_capacity")
        .kv("request_id", req.request_id)
        .kv("kind", list ? "models" : "chat")
        .kv("in_flight", static_cast<uint64_t>(same_kind));
    send_error(req.request_id, Code::kUnavailable,
               list ? "account " + account_.name + " is already listing models"
                    : "account " + account_.name + " is at capacity (" +
                          std::to_string(account_.capacity) + " concurrent requests)");
    return;
  }
  auto job = std::make_unique<Job>();
  job->worker = this;
  job->request_id = req.request_id;
  job->kind = req.kind;
  job->started_ms = uv_now(loop_);
  job->health_epoch = health_epoch_;
  const std::string model = req.model;
  const uint64_t messages = req.messages.size();
  const bool continues = !req.resume.chat_id.empty();
  if (req.kind == protocol::JobKind::kListModels) {
    job->models = std::make_unique<ModelsCall>(&client_, job.get());
    s = job->models->start();
  } else if (media_model(req.model)) {
    job->media = std::make_unique<MediaCall>(&client_, std::move(req), job.get());
    s = job->media->start();
  } else {
    job->chat = std::make_unique<ChatCall>(&client_, std::move(req), job.get());
    s = job->chat->start();
  }
  if (!s.ok()) {
    QP_ERROR("job.start_failed").kv("request_id", job->request_id).kv("error", s.message());
    send_error(job->request_id, Code::kInternal, "worker could not start the upstream request");
    deferred_.add(std::move(job));
    return;
  }
  QP_INFO("job.start")
      .kv("request_id", job->request_id)
      .kv("kind", job->kind == protocol::JobKind::kListModels ? "models" : "chat")
      .kv("model", model)
      .kv("messages", messages)
      .kv("continues", continues)
      .kv("in_flight", static_cast<uint64_t>(jobs_.size() + 1));
  const std::string rid = job->request_id;
  if (job->kind == protocol::JobKind::kListModels) ++list_jobs_;
  jobs_.emplace(rid, std::move(job));
}

void Worker::on_cancel(std::string_view request_id) {
  auto it = jobs_.find(std::string(request_id));
  if (it == jobs_.end()) {
    QP_DEBUG("job.cancel_unknown").kv("request_id", request_id);
    return;
  }
  Job* job = it->second.get();
  job->ended = true;
  job->cancel();
  QP_INFO("job.cancelled")
      .kv("request_id", request_id)
      .kv("chunks", job->chunks)
      .kv("duration_ms", uv_now(loop_) - job->started_ms);
  retire(job);
}

void Worker::job_delta(Job* job, protocol::JobChunk& chunk) {
  if (job->ended) return;
  // The first CHUNK names the account, so the console shows it for live
  // requests; later chunks leave the field out (codec: optional).
  if (++job->chunks == 1) chunk.account = account_.name;
  protocol::encode(chunk, &body_);
  chunk.account.clear();
  // Collected: the chunks that become ready in this loop turn leave as one
  // CHUNKS message at its end (chunks_turn_), never later.
  const bool first = chunks_.empty();
  if (!protocol::append_chunk_entry(&chunks_, job->request_id, body_)) {
    send(Command::kChunk, job->request_id, body_);  // an id too long for a batch entry
    return;
  }
  if (chunks_.size() >= protocol::kChunkBatchTargetBytes) {
    flush_chunks();
  } else if (first) {
    chunks_turn_.arm(
        loop_,
        [](void* self) {
          uv::guarded("worker.flush_exception",
                      [&] { static_cast<Worker*>(self)->flush_chunks(); });
        },
        this);
  }
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

void Worker::job_done(Job* job, const ChatResult& result) {
  if (job->ended) return;
  job->ended = true;
  protocol::JobDone done;
  done.request_id = job->request_id;
  done.finish_reason = result.finish_reason;
  done.stop_sequence = result.stop_sequence;
  done.has_usage = result.usage.present;
  done.usage.prompt_tokens = result.usage.input_tokens;
  done.usage.completion_tokens = result.usage.output_tokens;
  done.usage.total_tokens = result.usage.total_tokens;
  // Never more than the output (a derived count is the output so far).
  done.usage.reasoning_tokens =
      std::clamp<int64_t>(result.usage.reasoning_tokens, 0, result.usage.output_tokens);
  done.chat_id = result.chat_id;
  done.account = account_.name;
  done.sources = result.sources;
  done.media = result.media;
  protocol::encode(done, &body_);
  if (job->chat && !result.session_key.empty()) {
    const protocol::JobRequest& req = job->chat->request();
    protocol::SessionUpdate session{result.session_key,    result.chat_id, result.response_id,
                                    account_.name,         req.model,      req.history.system_hash,
                                    req.history.tools_hash};
    protocol::encode(session, &extra_);
    reaper_.touch(result.chat_id);
    send(Command::kDone, job->request_id, body_, extra_);
  } else {
    send(Command::kDone, job->request_id, body_);
  }
  QP_INFO("job.done")
      .kv("request_id", job->request_id)
      .kv("chat_id", result.chat_id)
      .kv("finish_reason", result.finish_reason)
      .kv("chunks", job->chunks)
      .kv("prompt_tokens", result.usage.input_tokens)
      .kv("completion_tokens", result.usage.output_tokens)
      .kv("reasoning_tokens", done.usage.reasoning_tokens)
      .kv("duration_ms", uv_now(loop_) - job->started_ms);
  // Success proves the account healthy, unless the job started before the
  // account went bad (a stream in flight when the quota ran out).
  if (job->health_epoch == health_epoch_) set_health(protocol::kHealthOk, 0);
  retire(job);
}

void Worker::job_models(Job* job, std::vector<protocol::ModelInfo> models) {
  if (job->ended) return;
  job->ended = true;
  protocol::ModelList list;
  list.request_id = job->request_id;
  list.models = std::move(models);
  protocol::encode(list, &body_);
  send(Command::kModels, job->request_id, body_);
  QP_INFO("job.models")
      .kv("request_id", job->request_id)
      .kv("models", static_cast<uint64_t>(list.models.size()))
      .kv("duration_ms", uv_now(loop_) - job->started_ms);
  // The model list is public (guests may read it): it proves the site is
  // reachable, not that this account may chat again.
  if (health_ == protocol::kHealthUnreachable) set_health(protocol::kHealthOk, 0);
  retire(job);
}

void Worker::job_error(Job* job, const UpstreamFailure& failure) {
  if (job->ended) return;
  job->ended = true;
  int64_t until = 0;
  if (failure.health != nullptr) {
    until = failure.retry_after_s > 0 ? uv::now_unix_ms() + failure.retry_after_s * 1000 : 0;
    set_health(failure.health, until, failure.message);
    // Signs in again at the next tick if it can (not here: this may run
    // inside a libcurl callback).
    if (std::string_view(failure.health) == protocol::kHealthCredentialsInvalid) {
      accounts_.rejected();
    }
  }
  send_error(job->request_id, failure.code, failure.message, failure.retry_after_s, failure.health,
             until, failure.error_code);
  QP_WARN("job.error")
      .kv("request_id", job->request_id)
      .kv("code", code_name(failure.code))
      .kv("message", failure.message)
      .kv("account_health", failure.health != nullptr ? failure.health : "")
      .kv("chunks", job->chunks)
      .kv("duration_ms", uv_now(loop_) - job->started_ms);
  retire(job);
}

void Worker::send_error(std::string_view request_id, Code code, const std::string& message,
                        int64_t retry_after_s, const char* account_health,
                        int64_t health_until_unix_ms, const char* error_code) {
  protocol::JobError e;
  e.request_id = std::string(request_id);
  e.code = code;
  e.message = message;
  e.retry_after_s = retry_after_s;
  if (account_health != nullptr) e.account_health = account_health;
  e.health_until_unix_ms = health_until_unix_ms;
  if (error_code != nullptr) e.error_code = error_code;
  protocol::encode(e, &body_);
  send(Command::kError, request_id, body_);
}

void Worker::retire(Job* job) {
  auto it = jobs_.find(job->request_id);
  if (it == jobs_.end() || it->second.get() != job) return;
  if (job->kind == protocol::JobKind::kListModels && list_jobs_ > 0) --list_jobs_;
  deferred_.add(std::move(it->second));
  jobs_.erase(it);
  maybe_drained();
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

void Worker::abort_jobs(const char* reason) {
  if (jobs_.empty()) return;
  QP_WARN("job.abort_all").kv("reason", reason).kv("jobs", static_cast<uint64_t>(jobs_.size()));
  for (auto& [id, job] : jobs_) {
    job->ended = true;
    job->cancel();
    deferred_.add(std::move(job));
  }
  jobs_.clear();
  list_jobs_ = 0;
  maybe_drained();
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

void Worker::set_health(const char* health, int64_t until_unix_ms, std::string detail) {
  if (std::string_view(health) == protocol::kHealthOk) detail.clear();
  if (std::string_view(health) == health_ && until_unix_ms == health_until_unix_ms_ &&
      detail == health_detail_) {
    return;
  }
  bool changed = std::string_view(health) != health_ || detail != health_detail_;
  if (std::string_view(health) != protocol::kHealthOk) ++health_epoch_;
  health_ = health;
  health_until_unix_ms_ = until_unix_ms;
  health_detail_ = std::move(detail);
  if (changed) {
    QP_WARN("account.health")
        .kv("account", account_.name)
        .kv("health", health_)
        .kv("until_unix_ms", until_unix_ms)
        .kv("detail", health_detail_);
  }
  send_status(Command::kHeartbeat);  // tell the broker now, not at the next tick
  check_notices();
}

void Worker::check_notices() {
  if (shutting_down_) return;
  notices_.check({account_.name, health_, health_detail_, accounts_.token_expires_unix_s()},
                 uv::now_unix_ms() / 1000);
}

void Worker::on_credentials(const AccountConfig& account) {
  account_ = account;
  client_.set_credentials(account);  // requests in flight keep their copies
  if (!accounts_.usable()) {
    set_health(protocol::kHealthCredentialsInvalid, 0, accounts_.problem());
    return;
  }
  if (!shutting_down_ && !draining_) pool_.start();
  if (std::string_view(health_) == protocol::kHealthCredentialsInvalid) {
    set_health(protocol::kHealthOk, 0);
  } else {
    send_status(Command::kHeartbeat);  // the new expiry, capacity
    check_notices();
  }
}

void Worker::on_credentials_invalid(const std::string& detail) {
  set_health(protocol::kHealthCredentialsInvalid, 0, detail);
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
