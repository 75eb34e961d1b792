// The worker process's core (the zguide Paranoid Pirate worker shape): one
// Qwen account, one DEALER socket to the broker, a table of in-flight jobs
// served by the QwenClient on the same libuv loop.
//
// Broker protocol (common/protocol/wire.h):
//   → READY (WorkerStatus) on every (re)connect, HEARTBEAT (WorkerStatus)
//     every broker.heartbeat_ms and at once when the account health changes;
//   ← JOB (JobRequest) → CHUNK* then DONE | ERROR, or MODELS | ERROR;
//   ← CANCEL: the upstream transfer is aborted, nothing more is sent;
//   ← HEARTBEAT (BrokerStatus): liveness, and `instance` to detect a restart;
//   ← DISCONNECT: re-register (new socket, READY) after the backoff.
// Broker silent for kLiveness intervals (judged by uv::SilenceClock: unread
// messages and a stall of this worker's own loop do not count as silence)
// → abort the jobs, recreate the
// socket after a backoff (1 s doubling to 32 s, reset by a broker
// heartbeat), READY again. Broker instance changed → the same, at once.
// Malformed frames are logged and dropped.
//
// Ownership: the Worker owns the CurlMulti, the AccountManager (the
// account's credentials, reloads and sign-ins), the QwenClient, the socket,
// its timers and the jobs. Jobs that end are handed to DeferredDelete (they
// may end inside a libcurl callback). Thread: the loop's thread only.
//
// Files: worker.cc (lifecycle), worker_broker.cc (the broker link,
// heartbeats, status), worker_jobs.cc (jobs and their outcomes),
// worker_health.cc (account health, notices, credentials), worker_job.h.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <uv.h>
#include <zmq.hpp>

#include "common/accounts/account_loader.h"
#include "common/config.h"
#include "common/protocol/messages.h"
#include "common/protocol/wire.h"
#include "common/uv/end_of_turn.h"
#include "common/uv/handle.h"
#include "common/uv/silence_clock.h"
#include "common/zmq/link_security.h"
#include "common/zmq/uv_socket.h"
#include "worker/account_manager.h"
#include "worker/chat_call.h"
#include "worker/chat_pool.h"
#include "worker/chat_reaper.h"
#include "worker/curl_multi.h"
#include "worker/deferred_delete.h"
#include "worker/notice_sender.h"
#include "worker/qwen_client.h"
#include "worker/upstream_recorder.h"
#include "worker/worker_metrics.h"

namespace qp::worker {

class Worker final : private AccountManager::Listener {
 public:
  static constexpr uint64_t kInitialBackoffMs = 1000;
  static constexpr uint64_t kMaxBackoffMs = 32'000;
  static constexpr size_t kMaxListJobs = 4;  // concurrent model-list jobs
  // How long drain() waits for jobs in flight: below the launcher's 10 s
  // SIGTERM → SIGKILL deadline and systemd's TimeoutStopSec=30s.
  static constexpr uint64_t kDrainGraceMs = 8000;

  // `config` and `ctx` must outlive the worker. `account` is what
  // accounts::load_account() found: unusable credentials (its status) do not
  // stop the worker, which then reports credentials_invalid with the reason
  // and refuses jobs until a reload (AccountManager) brings usable ones.
  Worker(uv_loop_t* loop, zmq::context_t& ctx, const Config& config,
         accounts::LoadedAccount account);
  // Credentials given directly (validated like inline ones; tests).
  Worker(uv_loop_t* loop, zmq::context_t& ctx, const Config& config, const AccountConfig& account);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Connects to the broker, sends READY and starts the timers.
  Status start();
  // Graceful stop: every in-flight job ends with ERROR kUnavailable "worker
  // shutting down", DISCONNECT is sent, the socket and timers are closed so
  // the loop can end. Idempotent.
  void shutdown();
  // SIGTERM/SIGINT: stop taking new chats (capacity 0 is advertised to the
  // broker at once, the chat pool stops), let the jobs in flight finish,
  // then shutdown(). shutdown() comes early when they have all ended, when
  // `grace_ms` has passed (the rest are cut as by shutdown()), when the
  // broker says DISCONNECT (it is going away: nothing could be delivered),
  // or on a second call (a second signal).
  void drain(uint64_t grace_ms = kDrainGraceMs);
  bool draining() const { return draining_; }
  // Reads the account's credentials again (SIGHUP; the account file is
  // watched too). Jobs in flight keep the credentials they started with.
  void reload(const char* reason) { accounts_.reload(reason); }

  size_t in_flight() const { return jobs_.size(); }
  const std::string& instance() const { return instance_; }
  const char* health() const { return health_; }
  int64_t token_expires_unix_s() const { return accounts_.token_expires_unix_s(); }
  const AccountManager& accounts() const { return accounts_; }

 private:
  struct Job;

  void connect_socket();
  void drop_socket();
  void schedule_reconnect(uint64_t delay_ms, const char* reason);
  void on_message(zmqx::Frames&& frames);
  void on_broker_heartbeat(std::string_view body);
  // `resume`: the JOB's RESUME frame (wire.h), empty when it has none.
  void on_job(std::string_view request_id, std::string_view body, std::string_view resume);
  void on_cancel(std::string_view request_id);
  void on_heartbeat_timer();
  void on_reconnect_timer();

  // Job outcomes (called by Job, possibly inside a libcurl callback).
  void job_delta(Job* job, protocol::JobChunk& chunk);
  void job_done(Job* job, const ChatResult& result);
  void job_models(Job* job, std::vector<protocol::ModelInfo> models);
  void job_error(Job* job, const UpstreamFailure& failure);
  void send_error(std::string_view request_id, Code code, const std::string& message,
                  int64_t retry_after_s = 0, const char* account_health = nullptr,
                  int64_t health_until_unix_ms = 0, const char* error_code = nullptr);
  void retire(Job* job);
  void abort_jobs(const char* reason);
  void maybe_drained();  // drain(): shut down (from the loop) once no chat is left
  static void on_drain_timer(uv_timer_t* timer);

  // `extra`: one frame after the body (DONE's SESSION), none when empty.
  void send(protocol::Command command, std::string_view request_id, const std::string& body,
            std::string_view extra = {});
  // Sends the CHUNKS batch collected this loop turn (chunks_), if any. Runs
  // from chunks_turn_ at the end of the turn, before any other message (so
  // a job's DONE or ERROR follows its chunks), and when the batch is full.
  void flush_chunks();
  void send_status(protocol::Command command);
  protocol::WorkerStatus status() const;
  void set_health(const char* health, int64_t until_unix_ms, std::string detail = {});
  void check_notices();
  // AccountManager::Listener
  void on_credentials(const AccountConfig& account) override;
  void on_credentials_invalid(const std::string& detail) override;

  uv_loop_t* loop_;
  zmq::context_t& ctx_;
  const Config& config_;
  AccountConfig account_;  // the credentials in effect (AccountManager's copy)
  std::string instance_;
  WorkerMetrics metrics_;
  // Declared before everything that makes requests: it outlives them all.
  std::unique_ptr<UpstreamRecorder> recorder_;  // upstream.record_file; null: off
  CurlMulti multi_;
  DeferredDelete deferred_;
  AccountManager accounts_;
  QwenClient client_;
  ChatPool pool_;
  ChatReaper reaper_;
  NoticeSender notices_;  // operator notices: log + webhook (notice_sender.h)
  zmqx::PeerLink link_;   // how to reach the broker (curve keys for tcp://)
  std::unique_ptr<zmqx::UvSocket> socket_;
  uv::Timer heartbeat_timer_;
  uv::Timer reconnect_timer_;
  uv::Timer watchdog_timer_;
  uv::Timer drain_timer_;  // drain(): the grace deadline, or 0 ms once idle
  std::unordered_map<std::string, std::unique_ptr<Job>> jobs_;
  size_t list_jobs_ = 0;  // model-list jobs among jobs_ (the rest are chats)
  std::string broker_instance_;
  uint64_t last_broker_ms_ = 0;  // uv_now of the last broker message
  uv::SilenceClock broker_silence_{config_.broker.heartbeat_ms};  // judges the broker's silence
  uint64_t backoff_ms_ = kInitialBackoffMs;
  const char* health_ = protocol::kHealthOk;
  int64_t health_until_unix_ms_ = 0;
  std::string health_detail_;                    // why health_ is not ok (WorkerStatus::detail)
  int64_t started_unix_ms_ = uv::now_unix_ms();  // WorkerStatus::started_unix_ms
  uint64_t health_epoch_ = 0;                    // counts changes to a health other than ok
  bool notified_ready_ = false;
  bool shutting_down_ = false;
  bool draining_ = false;
  std::string body_;           // reused encode buffer
  std::string extra_;          // reused encode buffer for a frame after the body
  std::string chunks_;         // the CHUNKS batch of this loop turn (chunk_batch.h)
  uv::EndOfTurn chunks_turn_;  // sends chunks_ at the end of the turn
};

}  // namespace qp::worker
