// Broker: conversations (session lookup, continuation, failover) and ending jobs.
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

}  // namespace qp::broker
