// The broker's view of its workers: who is registered, what each reported
// (account, capacity, health), how many jobs the broker has given each, when
// each was last heard from, and which one should take the next job.
//
// Pure policy: takes routing ids and times, returns decisions; never sees
// zmq. Single-threaded (the broker's loop).
//
// Two clocks, both passed in: `now_ms` is a monotonic clock used for
// liveness; `now_unix_ms` is wall-clock time used to compare with
// WorkerStatus::health_until_unix_ms, which comes from another process.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"
#include "common/protocol/wire.h"
#include "common/status.h"

namespace qp::broker {

struct WorkerEntry {
  std::string id;                  // zmq routing id (opaque bytes)
  protocol::WorkerStatus status;   // last READY / HEARTBEAT body
  uint32_t in_flight = 0;          // jobs assigned by this broker and not yet ended
  int64_t last_seen_ms = 0;        // monotonic
  uint64_t registered_seq = 0;     // registration order (stable tie-break)
  uint64_t last_assigned_seq = 0;  // 0 = never; smaller = longer ago (round-robin)
};

// What to do with a job.
struct Selection {
  enum class Action { kDispatch, kQueue, kFail };
  Action action = Action::kQueue;
  std::string worker;         // kDispatch: routing id
  Code code = Code::kOk;      // kFail: kUnavailable or kRateLimited
  std::string message;        // kFail: safe to show to clients
  int64_t retry_after_s = 0;  // kFail: > 0 when known
};

enum class Registration {
  kNew,        // first READY/HEARTBEAT from this routing id
  kUpdated,    // known worker, same instance
  kRestarted,  // known routing id, different instance: the old process's jobs are lost.
               // in_flight is left as it was so the caller can fail and release them.
};

// Retry-after used for a rate limit whose end the worker did not report.
inline constexpr int64_t kUnknownRateLimitRetryS = 60;

class WorkerRegistry {
 public:
  // A worker is dead after `liveness` heartbeat intervals without a message.
  explicit WorkerRegistry(uint64_t heartbeat_ms, int liveness = protocol::kLiveness);

  // READY or HEARTBEAT (a heartbeat from an unknown worker registers it too).
  Registration update(std::string_view id, const protocol::WorkerStatus& status, int64_t now_ms);
  // Any other message from the worker proves it alive. False if unknown.
  bool touch(std::string_view id, int64_t now_ms);
  bool remove(std::string_view id);
  // Removes and returns the workers silent for longer than the liveness window
  // as of `now_ms`. The broker passes uv::SilenceClock's "heard up to" (what
  // its loop has read), not simply the time: unread messages are not silence.
  std::vector<WorkerEntry> expire(int64_t now_ms);

  // Chooses a worker for a job of `kind`, or says why not.
  //  chat: a worker whose health is ok and in_flight < capacity, least loaded
  //    (in_flight/capacity), then least recently assigned. None free but some
  //    healthy -> kQueue. No worker at all -> kQueue. None healthy: kQueue if
  //    any is transiently unhealthy (upstream_unreachable, unknown value);
  //    else kFail: kRateLimited if any is rate limited (retry_after = until
  //    the earliest limit lifts), otherwise kUnavailable.
  //  list models: any worker whose credentials were not rejected, capacity
  //    ignored (cheap, must not wait behind long chats), least loaded.
  //    No worker -> kQueue; all credentials_invalid -> kFail kUnavailable.
  //  prefer_account: among the workers that could take the job, one of this
  //    account wins (a continuing conversation lives there); if none of its
  //    workers can take the job now, the normal choice is made (the
  //    conversation then replays elsewhere rather than wait).
  //  Drained accounts (set_draining) take no chat job, except one pinned to
  //  them. With every other account unusable the job fails as above.
  //  pin_account (admin test chat): only that account's workers are
  //  considered, drained or not; none registered: kFail kUnavailable; busy:
  //  kFail kUnavailable too (a pinned job never waits in the queue).
  Selection select(protocol::JobKind kind, int64_t now_unix_ms,
                   std::string_view prefer_account = {}, std::string_view pin_account = {}) const;

  // Operator drain (ADMIN): the account gets no new chat jobs; running ones
  // finish. Kept for accounts that are not registered (yet).
  void set_draining(const std::string& account, bool draining);
  bool draining(std::string_view account) const { return drained_.count(account) > 0; }
  const std::set<std::string, std::less<>>& drained() const { return drained_; }
  // Has a worker of `account` registered?
  bool has_account(std::string_view account) const;

  // A job was sent to / ended on worker `id`. Unknown ids are ignored.
  void assign(std::string_view id);
  // A job's failure told us the account's health before its worker's next
  // heartbeat does: every worker of `account` takes it now.
  void set_account_health(std::string_view account, const std::string& health,
                          int64_t until_unix_ms);
  void release(std::string_view id);

  const WorkerEntry* find(std::string_view id) const;
  size_t size() const { return workers_.size(); }
  // Workers in registration order.
  std::vector<const WorkerEntry*> ordered() const;
  std::vector<std::string> ids() const;
  std::vector<protocol::AccountSummary> summaries() const;

  // Why a chat job cannot run right now, for queue-full / queue-timeout
  // messages: "no worker is connected", "all 3 workers are busy",
  // "no Qwen account is available: account x ...".
  std::string describe_shortage(int64_t now_unix_ms) const;

 private:
  std::string unavailable_reasons(int64_t now_unix_ms) const;
  // select() over every worker, or only `only_account`'s (pinned).
  Selection select_among(protocol::JobKind kind, int64_t now_unix_ms,
                         std::string_view prefer_account, std::string_view only_account) const;

  int64_t window_ms_;
  uint64_t seq_ = 0;
  std::set<std::string, std::less<>> drained_;
  // Per account: the last worker instance seen, and how many times a new
  // instance has registered since (worker restarts).
  std::map<std::string, std::string, std::less<>> last_instance_;
  std::map<std::string, uint32_t, std::less<>> restarts_;
  std::map<std::string, WorkerEntry, std::less<>> workers_;
};

}  // namespace qp::broker
