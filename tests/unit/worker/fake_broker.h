// A broker stand-in for worker tests: a ROUTER on loopback TCP that records
// every message a worker sends and can send JOB/CANCEL/HEARTBEAT to it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "common/protocol/chunk_batch.h"
#include "common/protocol/codec.h"
#include "common/protocol/messages.h"
#include "common/protocol/wire.h"
#include "common/zmq/envelope.h"
#include "common/zmq/uv_socket.h"

namespace qp::testing {

struct BrokerMsg {
  std::string routing_id;
  protocol::Command command;
  std::string request_id;
  std::string body;
  std::vector<std::string> extra;  // frames after the body (DONE's SESSION)
  size_t batch = 0;                // a CHUNK from a CHUNKS batch: its number (1, 2, ...)
};

class FakeBroker {
 public:
  FakeBroker(uv_loop_t* loop, zmq::context_t& ctx) {
    zmq::socket_t s(ctx, zmq::socket_type::router);
    zmqx::set_common_options(s);
    s.bind("tcp://127.0.0.1:*");
    endpoint_ = s.get(zmq::sockopt::last_endpoint);
    socket_ = std::make_unique<zmqx::UvSocket>(loop, std::move(s), [this](zmqx::Frames&& f) {
      auto env = zmqx::Envelope::parse(std::move(f), true);
      REQUIRE(env.has_value());
      if (env->command() == protocol::Command::kChunks) {
        // Recorded as the CHUNKs the frontend gets once the broker split it.
        ++chunk_batches;
        protocol::ChunkBatchReader r(env->body());
        protocol::ChunkEntry e;
        while (r.next(&e)) {
          msgs.push_back(BrokerMsg{std::string(env->routing_id()),
                                   protocol::Command::kChunk,
                                   std::string(e.request_id),
                                   std::string(e.body),
                                   {}});
          msgs.back().batch = chunk_batches;
        }
        REQUIRE_FALSE(r.malformed());
        return;
      }
      BrokerMsg m{std::string(env->routing_id()),
                  env->command(),
                  std::string(env->request_id()),
                  std::string(env->body()),
                  {}};
      for (size_t i = 0; i < env->extra_count(); ++i) m.extra.emplace_back(env->extra(i));
      msgs.push_back(std::move(m));
    });
    REQUIRE(socket_->start().ok());
  }
  const std::string& endpoint() const { return endpoint_; }

  void send(const std::string& to, protocol::Command c, const std::string& rid,
            const std::string& body) {
    REQUIRE(socket_->send(zmqx::make_frames(c, rid, body, to)));
  }
  void send_raw(zmqx::Frames frames) { socket_->send(frames); }
  void heartbeat(const std::string& to, const std::string& instance) {
    protocol::BrokerStatus bs;
    bs.instance = instance;
    send(to, protocol::Command::kHeartbeat, "", protocol::encode(bs));
  }
  // As the real broker sends it: body, ROUTE, and RESUME when j.resume is set.
  void job(const std::string& to, const protocol::JobRequest& j) {
    const std::string body = protocol::encode(j);
    const std::string route = protocol::encode(protocol::route_of(j));
    if (j.resume.chat_id.empty()) {
      REQUIRE(socket_->send(
          zmqx::make_frames(protocol::Command::kJob, j.request_id, body, {route}, to)));
    } else {
      const std::string resume = protocol::encode(j.resume);
      REQUIRE(socket_->send(
          zmqx::make_frames(protocol::Command::kJob, j.request_id, body, {route, resume}, to)));
    }
  }
  void cancel(const std::string& to, const std::string& rid) {
    send(to, protocol::Command::kCancel, rid, {});
  }

  // Index of the first message at or after `from` with this command (and id).
  std::optional<size_t> find(protocol::Command c, const std::string& rid = {},
                             size_t from = 0) const {
    for (size_t i = from; i < msgs.size(); ++i) {
      if (msgs[i].command == c && (rid.empty() || msgs[i].request_id == rid)) return i;
    }
    return std::nullopt;
  }
  size_t count(protocol::Command c, const std::string& rid = {}) const {
    size_t n = 0;
    for (const auto& m : msgs) n += m.command == c && (rid.empty() || m.request_id == rid);
    return n;
  }
  // The latest READY/HEARTBEAT status.
  protocol::WorkerStatus last_status() const {
    protocol::WorkerStatus st;
    for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
      if (it->command == protocol::Command::kReady ||
          it->command == protocol::Command::kHeartbeat) {
        REQUIRE(protocol::decode(it->body, &st).ok());
        return st;
      }
    }
    FAIL("no status yet");
    return st;
  }
  void close() { socket_->close(); }

  std::vector<BrokerMsg> msgs;
  size_t chunk_batches = 0;  // CHUNKS messages received

 private:
  std::string endpoint_;
  std::unique_ptr<zmqx::UvSocket> socket_;
};

// A one-user-message chat job.
inline protocol::JobRequest chat_job(const std::string& id, const std::string& text = "hi") {
  protocol::JobRequest j;
  j.request_id = id;
  j.model = "qwen3-max";
  protocol::ChatMessage m;
  m.role = "user";
  m.content = text;
  j.messages.push_back(m);
  return j;
}

}  // namespace qp::testing
