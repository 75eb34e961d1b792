#include "common/zmq/envelope.h"

namespace qp::zmqx {

Result<Envelope> Envelope::parse(Frames frames, bool routed) {
  size_t base = routed ? 1 : 0;
  if (frames.size() < base + 4 || frames.size() > base + 4 + protocol::kMaxExtraFrames) {
    return error(Code::kProtocol, "expected " + std::to_string(base + 4) + " to " +
                                      std::to_string(base + 4 + protocol::kMaxExtraFrames) +
                                      " frames, got " + std::to_string(frames.size()));
  }
  auto version =
      std::string_view(static_cast<const char*>(frames[base].data()), frames[base].size());
  if (version != protocol::kVersion) return error(Code::kProtocol, "wrong protocol version");
  if (frames[base + 1].size() != 1) return error(Code::kProtocol, "command frame is not one byte");
  auto cmd = *static_cast<const uint8_t*>(frames[base + 1].data());
  if (cmd == 0 || cmd > protocol::kMaxCommand) return error(Code::kProtocol, "unknown command");
  Envelope e;
  e.frames_ = std::move(frames);
  e.base_ = base;
  e.command_ = static_cast<protocol::Command>(cmd);
  return e;
}

std::string_view Envelope::routing_id() const {
  if (base_ == 0) return {};
  return view(0);
}

Frames make_frames(protocol::Command command, std::string_view request_id, std::string_view body,
                   std::string_view routing_id) {
  return make_frames(command, request_id, body, {}, routing_id);
}

Frames make_frames(protocol::Command command, std::string_view request_id, std::string_view body,
                   std::initializer_list<std::string_view> extra, std::string_view routing_id) {
  Frames f;
  f.reserve(5 + extra.size());
  if (!routing_id.empty()) f.emplace_back(routing_id.data(), routing_id.size());
  f.emplace_back(protocol::kVersion.data(), protocol::kVersion.size());
  auto c = static_cast<uint8_t>(command);
  f.emplace_back(&c, 1);
  f.emplace_back(request_id.data(), request_id.size());
  f.emplace_back(body.data(), body.size());
  for (std::string_view x : extra) f.emplace_back(x.data(), x.size());
  return f;
}

}  // namespace qp::zmqx
