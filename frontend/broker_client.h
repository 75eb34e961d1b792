// The frontend's link to the broker: a DEALER socket on the frontend's libuv
// loop. Sends JOB and CANCEL, heartbeats the broker, and delivers
// CHUNK/DONE/ERROR/MODELS to the JobSink registered for each request id.
//
// Broker failure: if the broker's heartbeat `instance` changes (it restarted
// and lost its routing table) or it is silent for kLiveness intervals, every
// pending job ends with an error, so no client hangs.
//
// Ownership: sinks are not owned. A sink stays registered until its job's
// terminal message (DONE, ERROR, MODELS) has been delivered, or until
// cancel()/forget(). The owner may destroy the sink inside (after returning
// from) the terminal callback's caller, i.e. from on_finished.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "common/protocol/messages.h"
#include "common/status.h"
#include "common/uv/handle.h"
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
               FinishedFn on_finished);
  ~BrokerClient();

  Status start();
  void close();

  // Sends the job and registers `sink` for its messages. Fails with
  // kUnavailable when the broker is not reachable.
  Status submit(const protocol::JobRequest& job, JobSink* sink);
  // Sends CANCEL and unregisters the sink (no further callbacks).
  void cancel(const std::string& request_id, const std::string& reason);

  bool connected() const { return connected_; }
  const protocol::BrokerStatus& broker_status() const { return status_; }
  size_t pending() const { return sinks_.size(); }

 private:
  void on_message(zmqx::Frames&& frames);
  void on_heartbeat_timer();
  void fail_all(Code code, const std::string& message);
  void finish(const std::string& request_id);

  uv_loop_t* loop_;
  zmq::context_t& ctx_;
  std::string endpoint_;
  uint64_t heartbeat_ms_;
  FinishedFn on_finished_;
  std::unique_ptr<zmqx::UvSocket> socket_;
  uv::Timer timer_;
  std::string instance_;
  std::unordered_map<std::string, JobSink*> sinks_;
  protocol::BrokerStatus status_;
  uint64_t last_heard_ms_ = 0;
  bool connected_ = false;
  std::string body_;             // reused encode buffer
  protocol::JobChunk chunk_;     // reused decode target (per-chunk hot path)
};

}  // namespace qp::frontend
