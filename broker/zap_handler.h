// The broker's ZAP handler (ZeroMQ RFC 27): a REP socket on
// inproc://zeromq.zap.01 in the broker's context, polled from the broker's
// libuv loop like its ROUTERs. libzmq asks it about every CurveZMQ handshake
// on the broker's sockets; it answers with decide_zap() (broker/zap_policy.h)
// and logs each refusal with the offered key's fingerprint (at most once per
// key every kRefusalLogIntervalMs, so a peer retrying with a wrong key cannot
// flood the log).
//
// libzmq ends a refused client's session (no automatic retry); the worker's
// own reconnect brings it back, and it is admitted once its key is listed.
//
// The authorised keys are read at start(), where any problem is a startup
// error; later, the directory is read again whenever its modification time
// changes (a key file added, removed or renamed), and problems are logged.
//
// Threading: the loop's thread only. Must be started before the CURVE
// sockets are bound, and closed after them.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

#include <uv.h>
#include <zmq.hpp>

#include "broker/zap_policy.h"
#include "common/status.h"
#include "common/zmq/uv_socket.h"

namespace qp::broker {

inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
inline constexpr int64_t kRefusalLogIntervalMs = 10'000;

class ZapHandler {
 public:
  ZapHandler(uv_loop_t* loop, zmq::context_t& context, std::string authorized_keys_dir);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  Status start();
  void close();
  size_t authorized_count() const { return keys_.by_key.size(); }
  uint64_t refusals() const { return refusals_; }

 private:
  void on_request(zmqx::Frames&& frames);
  void reload_if_changed();
  bool should_log_refusal(const std::string& fingerprint);

  uv_loop_t* loop_;
  zmq::context_t& context_;
  std::string dir_;
  AuthorizedKeys keys_;
  timespec dir_mtime_{};
  std::unique_ptr<zmqx::UvSocket> socket_;
  std::unordered_map<std::string, int64_t> last_refusal_log_ms_;
  uint64_t refusals_ = 0;
};

}  // namespace qp::broker
