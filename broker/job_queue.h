// The bounded FIFO of jobs waiting for a worker. Holds request ids only (the
// broker keeps the jobs' frames). Pure: times are passed in (monotonic ms).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/protocol/messages.h"
#include "common/strings.h"

namespace qp::broker {

struct QueuedJob {
  std::string request_id;
  protocol::JobKind kind = protocol::JobKind::kChat;
  int64_t enqueued_ms = 0;
};

class JobQueue {
 public:
  // `limit` jobs at most (0: nothing may wait). A job that has waited
  // `timeout_ms` expires (0: jobs wait until cancelled).
  JobQueue(size_t limit, uint64_t timeout_ms);

  // False (and nothing changes) if the queue is full or the id is queued already.
  bool push(std::string_view request_id, protocol::JobKind kind, int64_t now_ms);
  bool remove(std::string_view request_id);
  bool contains(std::string_view request_id) const;

  size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }
  bool full() const { return order_.size() >= limit_; }
  size_t limit() const { return limit_; }
  uint64_t timeout_ms() const { return timeout_ms_; }
  size_t count(protocol::JobKind kind) const;

  // The oldest job whose kind is not skipped, or nullptr. The pointer is
  // valid until the queue changes.
  const QueuedJob* first(bool skip_chat, bool skip_list_models) const;

  // Removes and returns (oldest first) the jobs that have waited timeout_ms.
  std::vector<QueuedJob> expire(int64_t now_ms);
  // When the oldest job expires; nullopt if empty or there is no timeout.
  std::optional<int64_t> next_deadline_ms() const;

 private:
  size_t limit_;
  uint64_t timeout_ms_;
  size_t list_models_ = 0;
  std::list<QueuedJob> order_;
  strings::StringMap<std::list<QueuedJob>::iterator> index_;
};

}  // namespace qp::broker
