// The broker: two ROUTER sockets on one libuv loop (mdbroker shape).
//
//   frontends (DEALER) --> [frontend ROUTER]  Broker  [worker ROUTER] <-- workers (DEALER)
//
// JOBs from frontends go to the least-loaded healthy worker or wait in a
// bounded FIFO; CHUNK/DONE/ERROR/MODELS from workers are forwarded to the
// job's frontend frame-for-frame (only the routing-id frame is swapped, the
// body is neither decoded nor copied). Heartbeats both ways; a silent peer is
// dropped after kLiveness intervals and its jobs are failed (worker) or
// cancelled (frontend).
//
// This file is wiring: the decisions live in WorkerRegistry,
// FrontendRegistry, JobTable and JobQueue.
//
// Both ROUTERs use ZMQ_ROUTER_MANDATORY, so a send to a vanished peer fails
// at once (EHOSTUNREACH, never blocks: all sends are non-blocking) instead of
// being dropped silently; the broker then treats that peer as gone. They also
// use ZMQ_ROUTER_HANDOVER, so a restarted peer that reuses an explicit
// routing id takes over its old slot.
//
// A tcp:// endpoint is a CurveZMQ server (common/zmq/link_security.h) whose
// clients are vetted by the ZAP handler (zap_handler.h: the keys in
// broker.authorized_keys_dir); start() refuses plain tcp:// unless
// allow_plaintext_tcp is set and the address is loopback. A peer whose link
// drops and comes back gets a new routing id: to the broker it is a lost
// peer (its jobs handled as below) and then a new one.
//
// Peer failures detected while handling one event (a failed send) are only
// recorded; they are acted on at the end of the event (settle()), so no
// handler ever runs inside another.
//
// Threading: everything runs on the loop's thread. The loop must run (or be
// closed with qp::uv::close_loop) after stop()/destruction so that the libuv
// handles are freed.
//
// What peers can rely on:
//  - Every peer gets a HEARTBEAT (empty request id, BrokerStatus body) every
//    heartbeat_ms, and one at once when the broker first hears from it.
//    A new BrokerStatus::instance means the broker restarted and every job
//    it routed is gone.
//  - Peers must send something (a HEARTBEAT at least) every heartbeat_ms;
//    after kLiveness intervals of silence (uv::SilenceClock: messages still
//    unread in the broker's socket, and a stall of the broker's own loop,
//    are not silence) a worker's jobs end with ERROR
//    kUpstream to their frontends, and a frontend's jobs are CANCELled on
//    their workers (reason "frontend stopped responding").
//  - A worker is lost when it expires, is unreachable, says DISCONNECT or
//    comes back with a new instance. Its chat jobs that have not sent a CHUNK
//    yet (the client has seen nothing) are dispatched again, to any worker,
//    at most kMaxRequeues times each (else, and for every other job: ERROR
//    kUpstream).
//  - Request ids are unique across all frontends while a job lives.
//  - A job ends exactly once towards its frontend: DONE, ERROR or MODELS
//    forwarded from the worker, or an ERROR made by the broker. After a
//    frontend's CANCEL the broker sends nothing more for that job.
//  - A worker may get CANCEL for a job it has already finished or never had
//    (e.g. a chunk of a job the broker does not know), and must ignore it.
//  - List-models jobs are sent regardless of capacity.
//  - On shutdown: ERROR kUnavailable to every frontend with a job, CANCEL for
//    every job in flight, then DISCONNECT (empty frames) to every worker.
//    A worker that gets DISCONNECT should forget its jobs and register again
//    (READY) — the broker also sends it to a worker it has expired.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <uv.h>
#include <zmq.hpp>

#include "broker/broker_metrics.h"
#include "broker/chunk_split.h"
#include "broker/frontend_registry.h"
#include "broker/job_queue.h"
#include "broker/job_table.h"
#include "broker/session_store.h"
#include "broker/worker_registry.h"
#include "broker/zap_handler.h"
#include "common/config.h"
#include "common/status.h"
#include "common/uv/handle.h"
#include "common/uv/silence_clock.h"
#include "common/zmq/disconnect_watch.h"
#include "common/zmq/envelope.h"
#include "common/zmq/uv_socket.h"

namespace qp::broker {

// retry_after_s sent with queue-full and queue-timeout errors.
inline constexpr int64_t kBusyRetryAfterS = 5;
// Longest request id accepted from a frontend.
inline constexpr size_t kMaxRequestIdBytes = 256;
// How often one job may move to another account after account failures.
inline constexpr int kMaxFailovers = 3;
// How often one job may run again after the worker serving it was lost
// before it sent anything (once: a request that kills workers must not take
// them all down).
inline constexpr int kMaxRequeues = 1;

class Broker {
 public:
  // `context` must outlive the Broker. `instance`: the id announced in
  // heartbeats; empty = a random one.
  // `sessions`: the conversation index (may be null: no continuation), must
  // outlive the Broker.
  Broker(uv_loop_t* loop, zmq::context_t& context, const BrokerConfig& config,
         std::string instance = {}, SessionStore* sessions = nullptr);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Creates ipc directories, loads the CurveZMQ keys and starts the ZAP
  // handler (tcp:// only), binds both ROUTERs and starts the timers. Errors
  // (kIo, kInvalidArgument for keys and plain tcp) name the endpoint or file
  // and the reason.
  Status start();
  // Ends every job (ERROR kUnavailable to its frontend, CANCEL to its worker),
  // sends DISCONNECT to every worker, closes the sockets (with a short linger
  // so these last messages get out) and the timers. Idempotent.
  void stop();

  // Where drained accounts are kept across restarts (one name per line):
  // loads it now, rewrites it on every drain/resume. Empty: not persisted.
  void set_drain_file(std::string path);

  const std::string& instance() const { return instance_; }
  // The endpoints actually bound (a tcp port of * resolved).
  const std::string& frontend_endpoint() const { return frontend_endpoint_; }
  const std::string& worker_endpoint() const { return worker_endpoint_; }

  size_t workers_for_test() const { return workers_.size(); }
  size_t frontends_for_test() const { return frontends_.size(); }
  size_t queued_for_test() const { return queue_.size(); }
  size_t jobs_for_test() const { return jobs_.size(); }
  const WorkerRegistry& registry_for_test() const { return workers_; }

 private:
  // Socket handlers (one received message each).
  void on_frontend_message(zmqx::Frames&& frames);
  void on_worker_message(zmqx::Frames&& frames);
  void on_tick();
  void on_queue_timer();

  void handle_job(const std::string& frontend, zmqx::Envelope& env);
  void handle_frontend_cancel(const std::string& frontend, zmqx::Envelope& env);
  void handle_admin(const std::string& frontend, zmqx::Envelope& env);
  void save_drained();
  void handle_worker_status(const std::string& worker, const zmqx::Envelope& env);
  void handle_worker_reply(const std::string& worker, zmqx::Envelope& env);
  // CHUNKS (wire.h): forwarded whole when every entry goes to one frontend,
  // else split per frontend by copying entries; bodies are never decoded.
  void handle_worker_chunks(const std::string& worker, zmqx::Envelope& env);
  // The frontend a chunk of `rid` from `worker` goes to (the job is then no
  // longer failed over), or null for a job that is not this worker's (it is
  // told to cancel it once).
  const std::string* chunk_destination(const std::string& worker, std::string_view rid);

  // Sends a copy of the job's frames (frame 0 replaced by the worker's
  // routing id; a RESUME frame added if it continues a chat). On failure the
  // worker is marked dead; the job keeps its frames either way.
  bool send_job(Job& job, const std::string& worker);
  // Conversation routing: finds the job's session from its ROUTE, and at
  // dispatch turns the job into a continuation (a RESUME frame, encoded into
  // *resume) when the worker holds the session's account and its chat is not
  // busy (else it replays: a new chat, no RESUME).
  void find_session(Job& job, const protocol::JobRoute& route);
  // Returns how the dispatch uses the session (for metrics).
  BrokerMetrics::Conversation attach_continuation(Job& job, const std::string& worker,
                                                  std::string* resume);
  void record_session(const std::string& worker, const zmqx::Envelope& env);
  // An account failure (rate limit, credentials, WAF) before the job's first
  // CHUNK: marks the account and re-dispatches the job elsewhere (it replays:
  // another account cannot continue the chat). False: not applicable, the
  // error goes to the client.
  bool failover(const std::string& request_id, const std::string& worker,
                const protocol::JobError& error);
  // The job's worker was lost: queues the job again if it is a chat job that
  // has not sent a CHUNK and may still be requeued. False: it must fail.
  bool requeue_lost(const std::string& request_id);
  // Detaches a job from its worker (slot, busy chat, worker and account).
  void detach(Job& job);
  // Queues the job or rejects it with 503 if the queue is full.
  void enqueue(Job& job);

  // Ends a job with an ERROR to its frontend (no message to its worker).
  void fail_job(const std::string& request_id, Code code, const std::string& message,
                int64_t retry_after_s);
  // Ends a job without telling its frontend; CANCEL to its worker if it had one.
  void cancel_job(const std::string& request_id, std::string_view reason);
  // Forgets a job: releases its worker slot, removes it from the queue and table.
  void forget_job(const std::string& request_id);
  void fail_worker_jobs(const std::string& worker, const std::string& message);
  void cancel_frontend_jobs(const std::string& frontend, std::string_view reason);

  bool send_to_worker(zmqx::Frames& frames, const std::string& worker);
  bool send_to_frontend(zmqx::Frames& frames, const std::string& frontend);
  void send_error(const std::string& frontend, std::string_view request_id, Code code,
                  const std::string& message, int64_t retry_after_s);
  void send_status(const std::string& peer, bool to_worker, const std::string& body);
  // `with_metrics`: the body for frontends (BrokerStatus::metrics filled).
  std::string status_body(bool with_metrics = false);
  void heartbeat_all();
  // A tcp:// worker link was closed (zmqx::DisconnectWatch): a HEARTBEAT to
  // every worker finds which one is gone (ROUTER_MANDATORY) and acts on it.
  void on_worker_link_closed();

  // End-of-event work: acts on peers found dead, dispatches queued jobs when
  // something changed, re-arms the queue timer.
  void settle();
  void dispatch_queue();
  void rearm_queue_timer();

  int64_t now_ms() const;
  static int64_t now_unix_ms();

  uv_loop_t* loop_;
  zmq::context_t& context_;
  BrokerConfig config_;
  std::string instance_;
  std::string frontend_endpoint_;
  std::string worker_endpoint_;

  WorkerRegistry workers_;
  FrontendRegistry frontends_;
  BrokerMetrics metrics_;
  JobTable jobs_;
  JobQueue queue_;
  SessionStore* sessions_;
  // Upstream chats with a generation in flight (Qwen allows one per chat).
  std::unordered_map<std::string, std::string> busy_chats_;  // chat id -> request id

  std::unique_ptr<ZapHandler> zap_;  // only with CurveZMQ; outlives the sockets
  std::unique_ptr<zmqx::UvSocket> frontend_socket_;
  std::unique_ptr<zmqx::UvSocket> worker_socket_;
  std::unique_ptr<zmqx::DisconnectWatch> worker_watch_;  // tcp:// worker links only
  int64_t last_probe_ms_ = -1;                           // on_worker_link_closed()
  uv::Timer tick_timer_;
  uv::Timer queue_timer_;
  // on_tick(): judge each side's silence (unread messages and a stall of
  // this loop are not silence).
  uv::SilenceClock worker_silence_{config_.heartbeat_ms};
  uv::SilenceClock frontend_silence_{config_.heartbeat_ms};

  std::vector<std::string> dead_workers_;    // send failed: fail their jobs in settle()
  std::vector<std::string> dead_frontends_;  // send failed: cancel their jobs in settle()
  // handle_worker_chunks(): each entry's frontend and bytes (reused).
  ChunkRoutes chunk_routes_;
  bool need_dispatch_ = false;
  bool accounts_changed_ = false;  // tell the frontends in settle()
  bool queue_changed_ = false;
  bool started_ = false;  // start() was called
  bool running_ = false;  // start() succeeded
  bool stopped_ = false;
  std::string drain_file_;
};

}  // namespace qp::broker
