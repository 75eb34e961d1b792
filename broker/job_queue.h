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
  uint64_t seq = 0;  // arrival order across both kinds
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

  size_t size() const { return chats_.size() + lists_.size(); }
  bool empty() const { return chats_.empty() && lists_.empty(); }
  bool full() const { return size() >= limit_; }
  size_t limit() const { return limit_; }
  uint64_t timeout_ms() const { return timeout_ms_; }
  size_t count(protocol::JobKind kind) const;

  // The oldest job whose kind is not skipped, or nullptr: O(1) (one FIFO per
  // kind, so a model list behind thousands of chats is not searched for on
  // every dispatch). The pointer is valid until the queue changes.
  const QueuedJob* first(bool skip_chat, bool skip_list_models) const;

  // Removes and returns (oldest first) the jobs that have waited timeout_ms.
  std::vector<QueuedJob> expire(int64_t now_ms);
  // When the oldest job expires; nullopt if empty or there is no timeout.
  std::optional<int64_t> next_deadline_ms() const;

 private:
  size_t limit_;
  uint64_t timeout_ms_;
  using Fifo = std::list<QueuedJob>;
  Fifo& fifo(protocol::JobKind kind) {
    return kind == protocol::JobKind::kListModels ? lists_ : chats_;
  }
  uint64_t seq_ = 0;
  Fifo chats_;  // chat (and media) jobs, oldest first
  Fifo lists_;  // list-models jobs, oldest first
  strings::StringMap<Fifo::iterator> index_;
};

}  // namespace qp::broker
