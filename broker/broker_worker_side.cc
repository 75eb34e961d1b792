// Broker: messages from workers (status, chunk batches, replies) and sending jobs.
#include "broker/broker.h"
#include "broker/broker_internal.h"
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
  route_chunk_batch(
      env.body(), [&](std::string_view rid) { return chunk_destination(worker, rid); },
      &chunk_routes_);
  if (chunk_routes_.malformed) {
    QP_WARN("broker.bad_message").kv("side", "worker").kv("error", "malformed CHUNKS batch");
  }
  QP_DEBUG("job.chunks")
      .kv("entries", static_cast<uint64_t>(chunk_routes_.entries.size()))
      .kv("bytes", static_cast<uint64_t>(env.body().size()));
  if (chunk_routes_.entries.empty()) return;
  if (chunk_routes_.whole) {
    const std::string frontend = *chunk_routes_.entries.front().frontend;
    zmqx::Frames frames = env.take_frames();
    frames[0].rebuild(frontend.data(), frontend.size());
    send_to_frontend(frames, frontend);
    return;
  }
  // Split per frontend, copying each entry's bytes (chunk_split.h).
  split_chunk_routes(&chunk_routes_, [&](const std::string& frontend, std::string_view batch) {
    const std::string to = frontend;
    auto frames = zmqx::make_frames(Command::kChunks, {}, batch, to);
    send_to_frontend(frames, to);
  });
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

}  // namespace qp::broker
