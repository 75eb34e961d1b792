// The in-process broker harness shared by the broker tests: the test plays
// frontend and worker DEALERs over tcp://127.0.0.1:* and steps the broker's
// libuv loop from the same thread. Waiting is zmq_poll on the loop's backend
// fd plus the test sockets, bounded by a deadline: nothing sleeps.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "broker/broker.h"
#include "broker/session_store.h"
#include "common/protocol/codec.h"
#include "common/uv/handle.h"
#include "common/zmq/envelope.h"

namespace qp::broker::test_support {

namespace protocol = qp::protocol;
using protocol::Command;
using qp::Code;
using qp::broker::Broker;
using qp::zmqx::Envelope;
using qp::zmqx::Frames;
using Clock = std::chrono::steady_clock;

inline constexpr int kDeadlineMs = 5000;
inline constexpr const char* kInstance = "broker-test-instance";

inline qp::BrokerConfig test_config() {
  qp::BrokerConfig c;
  c.frontend_endpoint = "tcp://127.0.0.1:*";
  c.worker_endpoint = "tcp://127.0.0.1:*";
  c.allow_plaintext_tcp = true;  // loopback only (common/zmq/link_security.h)
  c.heartbeat_ms = 1000;         // tests that need expiry lower it
  c.queue_limit = 16;
  c.queue_timeout_ms = 30'000;
  return c;
}

inline protocol::WorkerStatus worker_status(const std::string& account, uint32_t capacity,
                                            const std::string& health = protocol::kHealthOk,
                                            int64_t until_unix_ms = 0,
                                            const std::string& instance = "w-i1") {
  protocol::WorkerStatus s;
  s.account = account;
  s.instance = instance;
  s.capacity = capacity;
  s.health = health;
  s.health_until_unix_ms = until_unix_ms;
  return s;
}

inline std::string job_body(const std::string& rid,
                            protocol::JobKind kind = protocol::JobKind::kChat) {
  protocol::JobRequest r;
  r.request_id = rid;
  r.kind = kind;
  r.model = "qwen3-max";
  r.messages.push_back({"user", "hello", "", "", ""});
  r.stream = true;
  return protocol::encode(r);
}

// One DEALER playing a frontend or a worker.
class Peer {
 public:
  // `setup` sets further options before connecting (e.g. CurveZMQ keys).
  Peer(zmq::context_t& ctx, const std::string& endpoint, const std::string& id,
       const std::function<void(zmq::socket_t&)>& setup = {})
      : sock_(ctx, zmq::socket_type::dealer) {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::routing_id, id);
    if (setup) setup(sock_);
    sock_.connect(endpoint);
  }
  // A JOB whose body decodes as a JobRequest gets its ROUTE frame, as the
  // frontend sends it (wire.h); send_frames() sends exactly what it is given.
  void send(Command cmd, const std::string& rid = {}, const std::string& body = {}) {
    protocol::JobRequest req;
    if (cmd == Command::kJob && protocol::decode(body, &req).ok()) {
      return send_frames(cmd, rid, body, {protocol::encode(protocol::route_of(req))});
    }
    auto frames = qp::zmqx::make_frames(cmd, rid, body);
    REQUIRE(zmq::send_multipart(sock_, frames));
  }
  void send_frames(Command cmd, const std::string& rid, const std::string& body,
                   std::initializer_list<std::string_view> extra) {
    auto frames = qp::zmqx::make_frames(cmd, rid, body, extra);
    REQUIRE(zmq::send_multipart(sock_, frames));
  }
  void send_raw(std::vector<std::string> parts) {
    Frames frames;
    for (auto& p : parts) frames.emplace_back(p.data(), p.size());
    REQUIRE(zmq::send_multipart(sock_, frames));
  }
  bool try_recv(Frames* out) {
    out->clear();
    auto n = zmq::recv_multipart(sock_, std::back_inserter(*out), zmq::recv_flags::dontwait);
    return n.has_value();
  }
  zmq::socket_t& socket() { return sock_; }
  void close() { sock_.close(); }

 private:
  zmq::socket_t sock_;
};

struct Received {
  Command command;
  std::string request_id;
  std::string body;
  std::vector<std::string> extra;  // frames after the body (ROUTE, RESUME)
};

class Harness {
 public:
  // `sessions`: the conversation index given to the broker (may be null).
  explicit Harness(const qp::BrokerConfig& config = test_config(),
                   qp::broker::SessionStore* sessions = nullptr) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    broker_ = std::make_unique<Broker>(&loop_, ctx_, config, kInstance, sessions);
    auto s = broker_->start();
    REQUIRE(s.ok());
  }
  ~Harness() {
    peers_.clear();
    broker_->stop();
    broker_.reset();
    CHECK(qp::uv::close_loop(&loop_) == 0);
  }

  Broker& broker() { return *broker_; }
  uv_loop_t* loop() { return &loop_; }

  Peer& frontend(const std::string& id = "frontend-1") {
    peers_.push_back(std::make_unique<Peer>(ctx_, broker_->frontend_endpoint(), id));
    return *peers_.back();
  }
  Peer& worker(const std::string& id = "worker-a",
               const std::function<void(zmq::socket_t&)>& setup = {}) {
    peers_.push_back(std::make_unique<Peer>(ctx_, broker_->worker_endpoint(), id, setup));
    return *peers_.back();
  }
  // Registers a worker and waits until the broker knows it.
  Peer& ready_worker(const std::string& id, const protocol::WorkerStatus& st) {
    size_t before = broker_->workers_for_test();
    Peer& w = worker(id);
    w.send(Command::kReady, {}, protocol::encode(st));
    REQUIRE(run_until([&] { return broker_->workers_for_test() == before + 1; }));
    return w;
  }
  // `peer` sends a HEARTBEAT with `body` every `every_ms` while the loop is pumped.
  void keep_alive(Peer& peer, int every_ms, std::string body) {
    keepalive_.push_back({&peer, every_ms, std::move(body), Clock::now()});
  }

  // Runs the broker loop until done() or the deadline.
  bool run_until(const std::function<bool()>& done, int timeout_ms = kDeadlineMs,
                 Peer* watch = nullptr) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      auto next_beat = send_due_heartbeats();
      if (done()) return true;
      auto now = Clock::now();
      if (now >= deadline) return false;
      auto until = std::min(deadline, next_beat);
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
      int uv_wait = uv_backend_timeout(&loop_);
      if (uv_wait >= 0 && uv_wait < wait) wait = uv_wait;
      std::vector<zmq::pollitem_t> items;
      items.push_back({nullptr, uv_backend_fd(&loop_), ZMQ_POLLIN, 0});
      if (watch != nullptr) items.push_back({watch->socket().handle(), 0, ZMQ_POLLIN, 0});
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait));
    }
  }

  // The next message on `peer` that is not a HEARTBEAT (unless `want` is kHeartbeat).
  std::optional<Received> recv(Peer& peer, std::optional<Command> want = std::nullopt,
                               int timeout_ms = kDeadlineMs) {
    std::optional<Received> got;
    run_until(
        [&] {
          Frames f;
          while (peer.try_recv(&f)) {
            auto env = Envelope::parse(std::move(f), /*routed=*/false);
            REQUIRE(env.has_value());
            bool heartbeat = env->command() == Command::kHeartbeat;
            if (heartbeat && want != Command::kHeartbeat) continue;
            got = Received{
                env->command(), std::string(env->request_id()), std::string(env->body()), {}};
            for (size_t i = 0; i < env->extra_count(); ++i) got->extra.emplace_back(env->extra(i));
            return true;
          }
          return false;
        },
        timeout_ms, &peer);
    if (got && want) CHECK(protocol::command_name(got->command) == protocol::command_name(*want));
    return got;
  }

  protocol::JobError recv_error(Peer& peer, const std::string& rid) {
    auto m = recv(peer, Command::kError);
    REQUIRE(m.has_value());
    CHECK(m->request_id == rid);
    protocol::JobError e;
    REQUIRE(protocol::decode(m->body, &e).ok());
    CHECK(e.request_id == rid);
    return e;
  }

  protocol::BrokerStatus recv_status(Peer& peer) {
    auto m = recv(peer, Command::kHeartbeat);
    REQUIRE(m.has_value());
    protocol::BrokerStatus st;
    REQUIRE(protocol::decode(m->body, &st).ok());
    return st;
  }

  // Reads status heartbeats until one satisfies `want` (earlier ones may be stale).
  bool status_until(Peer& peer, const std::function<bool(const protocol::BrokerStatus&)>& want) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(kDeadlineMs);
    while (Clock::now() < deadline) {
      auto m = recv(peer, Command::kHeartbeat);
      if (!m) return false;
      protocol::BrokerStatus st;
      REQUIRE(protocol::decode(m->body, &st).ok());
      if (want(st)) return true;
    }
    return false;
  }

  const qp::broker::WorkerEntry* worker_entry(const std::string& id) {
    return broker_->registry_for_test().find(id);
  }

 private:
  Clock::time_point send_due_heartbeats() {
    auto next = Clock::now() + std::chrono::hours(1);
    for (auto& k : keepalive_) {
      if (Clock::now() >= k.due) {
        k.peer->send(Command::kHeartbeat, {}, k.body);
        k.due = Clock::now() + std::chrono::milliseconds(k.every_ms);
      }
      next = std::min(next, k.due);
    }
    return next;
  }

  struct KeepAlive {
    Peer* peer;
    int every_ms;
    std::string body;
    Clock::time_point due;
  };
  zmq::context_t ctx_;  // first: destroyed last
  uv_loop_t loop_{};
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<KeepAlive> keepalive_;
};

inline std::string hello() {
  return protocol::encode(protocol::PeerHello{"fe-instance", "frontend"});
}

// Bytes that are not MessagePack at all: the broker must forward them untouched.
inline std::string opaque_bytes() {
  std::string s;
  for (int i = 0; i < 300; ++i) s.push_back(static_cast<char>((i * 37) & 0xff));
  s[0] = '\0';
  return s;
}

}  // namespace qp::broker::test_support
