// The frontend's link to the broker: a DEALER socket on the frontend's libuv
// loop. Sends JOB and CANCEL, heartbeats the broker, and delivers
// CHUNK/DONE/ERROR/MODELS to the JobSink registered for each request id.
//
// Broker failure, handled so that a broker restart is invisible to clients
// whenever possible:
// - While the broker is unreachable (a send fails, or it is silent for
//   kLiveness intervals, as uv::SilenceClock judges it: unread messages and
//   a stall of the frontend's own loop are not silence), new jobs wait here, up to `wait_ms`, and
//   are sent when its next heartbeat arrives; past the deadline they fail with 503.
// - When the broker's `instance` changes (it restarted and lost its routing
//   table), jobs that have not produced any output yet are re-submitted to
//   the new broker; jobs that already streamed output end with an error.
// - When contact is lost, jobs that already streamed output end with an error
//   at once, so no client hangs on a dead broker.
//
// Ownership: sinks are not owned. A sink stays registered until its job's
// terminal message (DONE, ERROR, MODELS) has been delivered, or until
// cancel()/forget(). The owner may destroy the sink inside (after returning
// from) the terminal callback's caller, i.e. from on_finished.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>

#include <uv.h>
#include <zmq.hpp>

#include "common/protocol/messages.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/uv/handle.h"
#include "common/uv/silence_clock.h"
#include "common/zmq/link_security.h"
#include "common/zmq/uv_socket.h"

namespace qp::frontend {

class JobSink {
 public:
  virtual ~JobSink() = default;
  virtual void on_chunk(const protocol::JobChunk& chunk) = 0;
  virtual void on_done(const protocol::JobDone& done) = 0;
  virtual void on_error(const protocol::JobError& error) = 0;
  virtual void on_models(const protocol::ModelList& models) = 0;
};

class BrokerClient {
 public:
  // Called after a sink received its terminal message and was unregistered.
  using FinishedFn = std::function<void(const std::string& request_id)>;

  BrokerClient(uv_loop_t* loop, zmq::context_t& ctx, std::string endpoint, uint64_t heartbeat_ms,
               uint64_t wait_ms, FinishedFn on_finished);
  ~BrokerClient();

  // How to reach the broker over tcp:// (CurveZMQ keys, heartbeats); before
  // start(). Default: a local (ipc://, inproc://) link.
  void set_link(zmqx::PeerLink link) { link_ = std::move(link); }
  // Names this process towards the broker (before start()): the DEALER's
  // routing id becomes "NAME-" + 8 hex digits of this run's instance, unique
  // per run, printable in the broker's logs. Default: ZeroMQ's generated id.
  void set_name(std::string name) { name_ = std::move(name); }
  // The routing id start() used ("" until then, or when unnamed).
  const std::string& routing_id() const { return routing_id_; }
  Status start();
  void close();

  // Registers `sink` and sends the job (or holds it while the broker is
  // unreachable, see above). Fails only for a duplicate request id.
  Status submit(const protocol::JobRequest& job, JobSink* sink);
  // Sends CANCEL and unregisters the sink (no further callbacks).
  void cancel(const std::string& request_id, const std::string& reason);

  // Sends ADMIN (drain / resume / reload an account). kUnavailable while the
  // broker is unreachable (not held: the operator retries).
  Status send_admin(const protocol::AdminCommand& command);

  bool connected() const { return connected_; }
  // The broker has answered at least once since start() (false: still starting).
  bool ever_connected() const { return ever_connected_; }
  const protocol::BrokerStatus& broker_status() const { return status_; }
  size_t pending() const { return jobs_.size(); }

 private:
  struct Job {
    JobSink* sink = nullptr;
    std::string body;               // encoded JobRequest, kept until the first output
    std::string route;              // encoded JobRoute (wire.h: the ROUTE frame)
    bool sent = false;              // handed to the current broker
    bool started = false;           // produced output: cannot be re-submitted
    uint64_t wait_deadline_ms = 0;  // while !sent: fail with 503 after this (0 = never)
  };

  void on_message(zmqx::Frames&& frames);
  // One JobChunk of a CHUNK or of a CHUNKS batch entry.
  void on_chunk(std::string_view request_id, std::string_view body);
  void on_heartbeat_timer();
  void on_broker_heartbeat(protocol::BrokerStatus status);
  void mark_disconnected(const char* why);
  bool send_job(const std::string& request_id, Job& job);
  void hold(Job& job);
  void flush_waiting();
  void fail_where(bool started_only, Code code, const std::string& message);
  void finish(const std::string& request_id);

  uv_loop_t* loop_;
  zmq::context_t& ctx_;
  std::string endpoint_;
  uint64_t heartbeat_ms_;
  uint64_t wait_ms_;
  FinishedFn on_finished_;
  zmqx::PeerLink link_;
  std::unique_ptr<zmqx::UvSocket> socket_;
  uv::Timer timer_;
  std::string instance_;
  std::string name_;
  std::string routing_id_;
  strings::StringMap<Job> jobs_;
  protocol::BrokerStatus status_;
  uint64_t last_heard_ms_ = 0;
  uv::SilenceClock silence_{heartbeat_ms_};  // judges the broker's silence
  // Some job may be unsent (hold() since the last flush_waiting() that sent
  // them all): false spares the walks of every job per heartbeat.
  bool may_hold_ = false;
  bool connected_ = false;
  bool ever_connected_ = false;
  std::string body_;          // reused encode buffer
  protocol::JobChunk chunk_;  // reused decode target (per-chunk hot path)
};

}  // namespace qp::frontend
