// Frontends the broker has heard from, for liveness and status heartbeats.
// A frontend is known from its first message (HEARTBEAT, JOB or CANCEL) and
// is dead after kLiveness heartbeat intervals of silence; its jobs must then
// be cancelled. Pure: routing ids and a monotonic `now_ms` in, decisions out.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/wire.h"

namespace qp::broker {

enum class FrontendSeen {
  kNew,        // first message from this routing id
  kKnown,      // nothing changed
  kRestarted,  // HEARTBEAT with a different instance than before: its old jobs are gone
};

class FrontendRegistry {
 public:
  explicit FrontendRegistry(uint64_t heartbeat_ms, int liveness = protocol::kLiveness);

  // Any message. The instance stays unknown until a HEARTBEAT names it.
  FrontendSeen on_message(std::string_view id, int64_t now_ms);
  // A HEARTBEAT carrying PeerHello::instance (empty = unknown).
  FrontendSeen on_hello(std::string_view id, std::string_view instance, int64_t now_ms);
  bool remove(std::string_view id);
  // Removes and returns the frontends silent for longer than the liveness window
  // as of `now_ms`. The broker passes uv::SilenceClock's "heard up to" (what
  // its loop has read), not simply the time: unread messages are not silence.
  std::vector<std::string> expire(int64_t now_ms);

  bool contains(std::string_view id) const { return frontends_.find(id) != frontends_.end(); }
  size_t size() const { return frontends_.size(); }
  std::vector<std::string> ids() const;

 private:
  struct Entry {
    std::string instance;
    int64_t last_seen_ms = 0;
  };
  int64_t window_ms_;
  std::map<std::string, Entry, std::less<>> frontends_;
};

}  // namespace qp::broker
