#include "broker/job_queue.h"

namespace qp::broker {

JobQueue::JobQueue(size_t limit, uint64_t timeout_ms) : limit_(limit), timeout_ms_(timeout_ms) {}

bool JobQueue::push(std::string_view request_id, protocol::JobKind kind, int64_t now_ms) {
  if (full() || contains(request_id)) return false;
  Fifo& q = fifo(kind);
  q.push_back(QueuedJob{std::string(request_id), kind, now_ms, ++seq_});
  index_.emplace(q.back().request_id, std::prev(q.end()));
  return true;
}

bool JobQueue::remove(std::string_view request_id) {
  auto it = index_.find(request_id);
  if (it == index_.end()) return false;
  fifo(it->second->kind).erase(it->second);
  index_.erase(it);
  return true;
}

bool JobQueue::contains(std::string_view request_id) const {
  return index_.find(request_id) != index_.end();
}

size_t JobQueue::count(protocol::JobKind kind) const {
  return kind == protocol::JobKind::kListModels ? lists_.size() : chats_.size();
}

const QueuedJob* JobQueue::first(bool skip_chat, bool skip_list_models) const {
  const QueuedJob* chat = skip_chat || chats_.empty() ? nullptr : &chats_.front();
  const QueuedJob* list = skip_list_models || lists_.empty() ? nullptr : &lists_.front();
  if (chat == nullptr) return list;
  if (list == nullptr) return chat;
  return list->seq < chat->seq ? list : chat;
}

std::vector<QueuedJob> JobQueue::expire(int64_t now_ms) {
  std::vector<QueuedJob> out;
  if (timeout_ms_ == 0) return out;
  const auto timeout = static_cast<int64_t>(timeout_ms_);
  // FIFO with one timeout: the oldest expire first.
  while (const QueuedJob* q = first(false, false)) {
    if (now_ms - q->enqueued_ms < timeout) break;
    Fifo& from = fifo(q->kind);
    index_.erase(q->request_id);
    out.push_back(std::move(from.front()));
    from.pop_front();
  }
  return out;
}

std::optional<int64_t> JobQueue::next_deadline_ms() const {
  const QueuedJob* q = first(false, false);
  if (q == nullptr || timeout_ms_ == 0) return std::nullopt;
  return q->enqueued_ms + static_cast<int64_t>(timeout_ms_);
}

}  // namespace qp::broker
