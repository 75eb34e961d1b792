#include "broker/job_table.h"

namespace qp::broker {

Job* JobTable::add(std::string_view request_id, std::string_view frontend, protocol::JobKind kind,
                   int64_t now_ms) {
  if (jobs_.find(request_id) != jobs_.end()) return nullptr;
  Job job;
  job.request_id = std::string(request_id);
  job.frontend = std::string(frontend);
  job.kind = kind;
  job.received_ms = now_ms;
  auto [it, inserted] = jobs_.emplace(job.request_id, std::move(job));
  // A new job with the id of a cancelled one: its chunks are wanted again.
  forget_cancelled(request_id);
  return &it->second;
}

Job* JobTable::find(std::string_view request_id) {
  auto it = jobs_.find(request_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

bool JobTable::remove(std::string_view request_id) {
  auto it = jobs_.find(request_id);
  if (it == jobs_.end()) return false;
  jobs_.erase(it);
  return true;
}

std::vector<std::string> JobTable::of_worker(std::string_view worker) const {
  std::vector<std::string> out;
  for (const auto& [id, job] : jobs_) {
    if (!job.worker.empty() && job.worker == worker) out.push_back(id);
  }
  return out;
}

std::vector<std::string> JobTable::of_frontend(std::string_view frontend) const {
  std::vector<std::string> out;
  for (const auto& [id, job] : jobs_) {
    if (job.frontend == frontend) out.push_back(id);
  }
  return out;
}

std::vector<std::string> JobTable::all() const {
  std::vector<std::string> out;
  out.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) out.push_back(id);
  return out;
}

void JobTable::remember_cancelled(std::string_view request_id, int64_t now_ms) {
  auto it = cancelled_.find(request_id);
  if (it != cancelled_.end()) {
    it->second = now_ms;
  } else {
    cancelled_.emplace(std::string(request_id), now_ms);
  }
}

bool JobTable::was_cancelled(std::string_view request_id) const {
  return cancelled_.find(request_id) != cancelled_.end();
}

void JobTable::forget_cancelled(std::string_view request_id) {
  auto it = cancelled_.find(request_id);
  if (it != cancelled_.end()) cancelled_.erase(it);
}

void JobTable::purge_cancelled(int64_t now_ms) {
  std::erase_if(cancelled_,
                [&](const auto& kv) { return now_ms - kv.second >= tombstone_ttl_ms_; });
}

}  // namespace qp::broker
