#include "broker/job_queue.h"

namespace qp::broker {

JobQueue::JobQueue(size_t limit, uint64_t timeout_ms) : limit_(limit), timeout_ms_(timeout_ms) {}

bool JobQueue::push(std::string_view request_id, protocol::JobKind kind, int64_t now_ms) {
  if (full() || contains(request_id)) return false;
  order_.push_back(QueuedJob{std::string(request_id), kind, now_ms});
  auto it = std::prev(order_.end());
  index_.emplace(it->request_id, it);
  if (kind == protocol::JobKind::kListModels) ++list_models_;
  return true;
}

bool JobQueue::remove(std::string_view request_id) {
  auto it = index_.find(request_id);
  if (it == index_.end()) return false;
  if (it->second->kind == protocol::JobKind::kListModels) --list_models_;
  order_.erase(it->second);
  index_.erase(it);
  return true;
}

bool JobQueue::contains(std::string_view request_id) const {
  return index_.find(request_id) != index_.end();
}

size_t JobQueue::count(protocol::JobKind kind) const {
  return kind == protocol::JobKind::kListModels ? list_models_ : order_.size() - list_models_;
}

const QueuedJob* JobQueue::first(bool skip_chat, bool skip_list_models) const {
  if (skip_list_models && skip_chat) return nullptr;
  if (skip_list_models && list_models_ == order_.size()) return nullptr;
  if (skip_chat && list_models_ == 0) return nullptr;
  for (const auto& q : order_) {
    bool list = q.kind == protocol::JobKind::kListModels;
    if (list ? skip_list_models : skip_chat) continue;
    return &q;
  }
  return nullptr;
}

std::vector<QueuedJob> JobQueue::expire(int64_t now_ms) {
  std::vector<QueuedJob> out;
  if (timeout_ms_ == 0) return out;
  const auto timeout = static_cast<int64_t>(timeout_ms_);
  // FIFO with one timeout: the oldest expire first.
  while (!order_.empty() && now_ms - order_.front().enqueued_ms >= timeout) {
    QueuedJob q = std::move(order_.front());
    index_.erase(q.request_id);
    if (q.kind == protocol::JobKind::kListModels) --list_models_;
    order_.pop_front();
    out.push_back(std::move(q));
  }
  return out;
}

std::optional<int64_t> JobQueue::next_deadline_ms() const {
  if (order_.empty() || timeout_ms_ == 0) return std::nullopt;
  return order_.front().enqueued_ms + static_cast<int64_t>(timeout_ms_);
}

}  // namespace qp::broker
