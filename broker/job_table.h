// Every job the broker currently routes (queued or in flight), one record
// each that owns its frames and routing state, keyed by its
// request id, plus short-lived tombstones of request ids it has cancelled so
// that late chunks for them are dropped quietly. Pure bookkeeping; no I/O.
//
// Request ids are unique across all frontends while a job lives: the worker
// side knows a job only by its request id, so two live jobs with the same id
// could not be told apart there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/session_store.h"
#include "common/protocol/messages.h"
#include "common/strings.h"
#include "common/zmq/envelope.h"

namespace qp::broker {

struct Job {
  std::string request_id;
  std::string frontend;  // routing id of the frontend that sent it
  protocol::JobKind kind = protocol::JobKind::kChat;
  std::string worker;         // routing id of the worker serving it; empty while queued
  std::string account;        // that worker's account (for logs)
  int64_t received_ms = 0;    // monotonic
  int64_t dispatched_ms = 0;  // monotonic; 0 while queued
  // The indexed conversation this chat job may continue. Whether
  // it does is decided at dispatch (same account, chat not busy).
  bool has_session = false;
  Session session;
  std::string continued_chat;  // the chat it was dispatched to continue; busy until it ends
  bool forwarded = false;      // a CHUNK reached its frontend: no more failover
  int failovers = 0;           // times re-dispatched after an account failure
  int requeues = 0;            // times re-dispatched after its worker was lost
  std::string pin_account;     // JobRoute::pin_account: only this account serves it
  // The JOB as received (frame 0: the frontend's routing id; body and ROUTE
  // frames untouched), held while it waits and, for a chat job, until its
  // first CHUNK (failover and requeue send it again); empty after that.
  zmqx::Frames frames;
};

class JobTable {
 public:
  // Tombstones are forgotten `tombstone_ttl_ms` after they were made.
  explicit JobTable(int64_t tombstone_ttl_ms = 30'000) : tombstone_ttl_ms_(tombstone_ttl_ms) {}

  // Returns nullptr if `request_id` is already in use. The pointer is valid
  // until the job is removed.
  Job* add(std::string_view request_id, std::string_view frontend, protocol::JobKind kind,
           int64_t now_ms);
  Job* find(std::string_view request_id);
  bool remove(std::string_view request_id);
  size_t size() const { return jobs_.size(); }

  // Request ids of the jobs of one worker / one frontend / all, in no order.
  std::vector<std::string> of_worker(std::string_view worker) const;
  std::vector<std::string> of_frontend(std::string_view frontend) const;
  std::vector<std::string> all() const;

  // Tombstones.
  void remember_cancelled(std::string_view request_id, int64_t now_ms);
  bool was_cancelled(std::string_view request_id) const;
  void forget_cancelled(std::string_view request_id);
  void purge_cancelled(int64_t now_ms);
  size_t cancelled_size() const { return cancelled_.size(); }

 private:
  template <class V>
  using Map = strings::StringMap<V>;

  int64_t tombstone_ttl_ms_;
  Map<Job> jobs_;
  Map<int64_t> cancelled_;  // request id -> when it was cancelled
};

}  // namespace qp::broker
