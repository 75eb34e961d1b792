#include "broker/frontend_registry.h"

namespace qp::broker {

FrontendRegistry::FrontendRegistry(uint64_t heartbeat_ms, int liveness)
    : window_ms_(static_cast<int64_t>(heartbeat_ms) * liveness) {}

FrontendSeen FrontendRegistry::on_message(std::string_view id, int64_t now_ms) {
  auto it = frontends_.find(id);
  if (it == frontends_.end()) {
    frontends_.emplace(std::string(id), Entry{std::string(), now_ms});
    return FrontendSeen::kNew;
  }
  it->second.last_seen_ms = now_ms;
  return FrontendSeen::kKnown;
}

FrontendSeen FrontendRegistry::on_hello(std::string_view id, std::string_view instance,
                                        int64_t now_ms) {
  auto it = frontends_.find(id);
  if (it == frontends_.end()) {
    frontends_.emplace(std::string(id), Entry{std::string(instance), now_ms});
    return FrontendSeen::kNew;
  }
  Entry& e = it->second;
  e.last_seen_ms = now_ms;
  if (instance.empty() || e.instance == instance) return FrontendSeen::kKnown;
  bool restarted = !e.instance.empty();
  e.instance = std::string(instance);
  return restarted ? FrontendSeen::kRestarted : FrontendSeen::kKnown;
}

bool FrontendRegistry::remove(std::string_view id) {
  auto it = frontends_.find(id);
  if (it == frontends_.end()) return false;
  frontends_.erase(it);
  return true;
}

std::vector<std::string> FrontendRegistry::expire(int64_t now_ms) {
  std::vector<std::string> dead;
  for (auto it = frontends_.begin(); it != frontends_.end();) {
    if (now_ms - it->second.last_seen_ms > window_ms_) {
      dead.push_back(it->first);
      it = frontends_.erase(it);
    } else {
      ++it;
    }
  }
  return dead;
}

std::vector<std::string> FrontendRegistry::ids() const {
  std::vector<std::string> out;
  out.reserve(frontends_.size());
  for (const auto& [id, e] : frontends_) out.push_back(id);
  return out;
}

}  // namespace qp::broker
