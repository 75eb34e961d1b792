// Worker jobs: intake (JOB, CANCEL), their outcomes (CHUNK, DONE, MODELS,
// ERROR) and their end (worker.h).
#include <algorithm>

#include "common/log.h"
#include "common/model_variants.h"
#include "common/protocol/chunk_batch.h"
#include "common/protocol/codec.h"
#include "common/uv/callback.h"
#include "worker/worker.h"
#include "worker/worker_job.h"

namespace qp::worker {

using protocol::Command;

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

}  // namespace qp::worker
