// Builds and parses the frame layout of protocol/wire.h on ZeroMQ messages.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "common/protocol/wire.h"
#include "common/status.h"

namespace qp::zmqx {

using Frames = std::vector<zmq::message_t>;

// A received message, validated. Views point into frames() and stay valid
// while the Envelope lives.
class Envelope {
 public:
  // `routed`: the socket is a ROUTER, so frame 0 is the peer's routing id.
  // Rejects a wrong frame count (4 to 4 + kMaxExtraFrames after the routing
  // id), a wrong version and unknown commands.
  static Result<Envelope> parse(Frames frames, bool routed);

  std::string_view routing_id() const;  // empty unless routed
  protocol::Command command() const { return command_; }
  std::string_view request_id() const { return view(base_ + 2); }
  std::string_view body() const { return view(base_ + 3); }
  // Frames after the body (wire.h: ROUTE, RESUME, SESSION), by position.
  size_t extra_count() const { return frames_.size() - base_ - 4; }
  std::string_view extra(size_t i) const { return view(base_ + 4 + i); }
  // Moves the frames out, e.g. to forward them unchanged after swapping the
  // routing id frame. Frame indexes: routed ? 1.. : 0.. (see wire.h).
  Frames take_frames() { return std::move(frames_); }
  size_t base() const { return base_; }

 private:
  std::string_view view(size_t i) const {
    return std::string_view(static_cast<const char*>(frames_[i].data()), frames_[i].size());
  }
  Frames frames_;
  size_t base_ = 0;
  protocol::Command command_ = protocol::Command::kHeartbeat;
};

// Builds the frames of one message. With a routing id (sending on a ROUTER),
// it is prepended.
Frames make_frames(protocol::Command command, std::string_view request_id, std::string_view body,
                   std::string_view routing_id = {});
// The same with frames after the body (at most protocol::kMaxExtraFrames).
Frames make_frames(protocol::Command command, std::string_view request_id, std::string_view body,
                   std::initializer_list<std::string_view> extra, std::string_view routing_id = {});

}  // namespace qp::zmqx
