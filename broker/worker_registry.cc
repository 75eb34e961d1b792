#include "broker/worker_registry.h"

#include <algorithm>
#include <limits>

#include "broker/health.h"

namespace qp::broker {
namespace {

// a is less loaded than b: in_flight/capacity compared without division, then
// the one assigned longest ago, then registration order. A capacity of 0 is
// treated as 1 here (list-models jobs ignore capacity).
bool less_loaded(const WorkerEntry& a, const WorkerEntry& b) {
  uint64_t cap_a = std::max<uint32_t>(a.status.capacity, 1);
  uint64_t cap_b = std::max<uint32_t>(b.status.capacity, 1);
  uint64_t la = uint64_t{a.in_flight} * cap_b;
  uint64_t lb = uint64_t{b.in_flight} * cap_a;
  if (la != lb) return la < lb;
  if (a.last_assigned_seq != b.last_assigned_seq) return a.last_assigned_seq < b.last_assigned_seq;
  return a.registered_seq < b.registered_seq;
}

Selection queue() { return Selection{}; }

Selection fail(Code code, std::string message, int64_t retry_after_s) {
  Selection s;
  s.action = Selection::Action::kFail;
  s.code = code;
  s.message = std::move(message);
  s.retry_after_s = retry_after_s;
  return s;
}

}  // namespace

WorkerRegistry::WorkerRegistry(uint64_t heartbeat_ms, int liveness)
    : window_ms_(static_cast<int64_t>(heartbeat_ms) * liveness) {}

Registration WorkerRegistry::update(std::string_view id, const protocol::WorkerStatus& status,
                                    int64_t now_ms) {
  if (!status.account.empty() && !status.instance.empty()) {
    auto [li, fresh] = last_instance_.try_emplace(status.account, status.instance);
    if (!fresh && li->second != status.instance) {
      li->second = status.instance;
      ++restarts_[status.account];
    }
  }
  auto it = workers_.find(id);
  if (it == workers_.end()) {
    WorkerEntry w;
    w.id = std::string(id);
    w.status = status;
    w.last_seen_ms = now_ms;
    w.registered_seq = ++seq_;
    workers_.emplace(w.id, std::move(w));
    return Registration::kNew;
  }
  WorkerEntry& w = it->second;
  bool restarted = w.status.instance != status.instance;
  w.status = status;
  w.last_seen_ms = now_ms;
  return restarted ? Registration::kRestarted : Registration::kUpdated;
}

bool WorkerRegistry::touch(std::string_view id, int64_t now_ms) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return false;
  it->second.last_seen_ms = now_ms;
  return true;
}

bool WorkerRegistry::remove(std::string_view id) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return false;
  workers_.erase(it);
  return true;
}

std::vector<WorkerEntry> WorkerRegistry::expire(int64_t now_ms) {
  std::vector<WorkerEntry> dead;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (now_ms - it->second.last_seen_ms > window_ms_) {
      dead.push_back(std::move(it->second));
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  return dead;
}

void WorkerRegistry::set_draining(const std::string& account, bool draining) {
  if (draining)
    drained_.insert(account);
  else
    drained_.erase(account);
}

bool WorkerRegistry::has_account(std::string_view account) const {
  for (const auto& [id, w] : workers_) {
    if (w.status.account == account) return true;
  }
  return false;
}

Selection WorkerRegistry::select(protocol::JobKind kind, int64_t now_unix_ms,
                                 std::string_view prefer_account,
                                 std::string_view pin_account) const {
  if (!pin_account.empty()) {
    if (!has_account(pin_account)) {
      return fail(Code::kUnavailable,
                  "no worker serves account " + std::string(pin_account) + " right now", 0);
    }
    Selection s = select_among(kind, now_unix_ms, {}, pin_account);
    if (s.action == Selection::Action::kQueue) {
      return fail(Code::kUnavailable,
                  "account " + std::string(pin_account) + " is busy or not ready; retry", 1);
    }
    return s;
  }
  return select_among(kind, now_unix_ms, prefer_account, {});
}

Selection WorkerRegistry::select_among(protocol::JobKind kind, int64_t now_unix_ms,
                                       std::string_view prefer_account,
                                       std::string_view only_account) const {
  if (workers_.empty()) return queue();
  const bool chat = kind != protocol::JobKind::kListModels;
  bool any_drained = false;
  const WorkerEntry* best = nullptr;
  bool any_eligible = false;
  bool any_transient = false;
  bool any_rate_limited = false;
  int64_t earliest_until = std::numeric_limits<int64_t>::max();
  for (const auto& [id, w] : workers_) {
    const auto& st = w.status;
    if (!only_account.empty() && st.account != only_account) continue;
    if (chat && only_account.empty() && draining(st.account)) {
      any_drained = true;
      continue;
    }
    bool eligible;
    if (chat) {
      HealthClass c = classify_health(st.health, st.health_until_unix_ms, now_unix_ms);
      eligible = c == HealthClass::kOk;
      if (c == HealthClass::kTransient) any_transient = true;
      if (c == HealthClass::kRateLimited) {
        any_rate_limited = true;
        if (st.health_until_unix_ms > 0)
          earliest_until = std::min(earliest_until, st.health_until_unix_ms);
      }
    } else {
      eligible = can_list_models(st.health);
    }
    if (!eligible) continue;
    any_eligible = true;
    if (chat && w.in_flight >= st.capacity) continue;
    if (best == nullptr) {
      best = &w;
      continue;
    }
    if (!prefer_account.empty()) {
      bool mine = st.account == prefer_account;
      bool best_mine = best->status.account == prefer_account;
      if (mine != best_mine) {
        if (mine) best = &w;
        continue;
      }
    }
    if (less_loaded(w, *best)) best = &w;
  }
  if (best != nullptr) {
    Selection s;
    s.action = Selection::Action::kDispatch;
    s.worker = best->id;
    return s;
  }
  if (any_eligible || any_transient) return queue();
  std::string reasons = unavailable_reasons(now_unix_ms);
  if (any_drained) {
    for (const auto& a : drained_) {
      if (!has_account(a)) continue;
      if (!reasons.empty()) reasons += ", ";
      reasons += "account " + a + " is drained by an operator";
    }
  }
  std::string message = "no Qwen account is available: " + reasons;
  if (any_rate_limited) {
    int64_t retry = earliest_until == std::numeric_limits<int64_t>::max()
                        ? kUnknownRateLimitRetryS
                        : seconds_until(earliest_until, now_unix_ms);
    return fail(Code::kRateLimited, std::move(message), retry);
  }
  return fail(Code::kUnavailable, std::move(message), 0);
}

void WorkerRegistry::set_account_health(std::string_view account, const std::string& health,
                                        int64_t until_unix_ms) {
  for (auto& [id, w] : workers_) {
    if (w.status.account != account) continue;
    w.status.health = health;
    w.status.health_until_unix_ms = until_unix_ms;
  }
}

void WorkerRegistry::assign(std::string_view id) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  ++it->second.in_flight;
  it->second.last_assigned_seq = ++seq_;
}

void WorkerRegistry::release(std::string_view id) {
  auto it = workers_.find(id);
  if (it == workers_.end() || it->second.in_flight == 0) return;
  --it->second.in_flight;
}

const WorkerEntry* WorkerRegistry::find(std::string_view id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

std::vector<const WorkerEntry*> WorkerRegistry::ordered() const {
  std::vector<const WorkerEntry*> out;
  out.reserve(workers_.size());
  for (const auto& [id, w] : workers_) out.push_back(&w);
  std::sort(out.begin(), out.end(), [](const WorkerEntry* a, const WorkerEntry* b) {
    return a->registered_seq < b->registered_seq;
  });
  return out;
}

std::vector<std::string> WorkerRegistry::ids() const {
  std::vector<std::string> out;
  for (const WorkerEntry* w : ordered()) out.push_back(w->id);
  return out;
}

std::vector<protocol::AccountSummary> WorkerRegistry::summaries() const {
  std::vector<protocol::AccountSummary> out;
  for (const WorkerEntry* w : ordered()) {
    protocol::AccountSummary a;
    a.account = w->status.account;
    a.health = w->status.health;
    a.capacity = w->status.capacity;
    a.in_flight = w->in_flight;
    a.token_expires_unix_s = w->status.token_expires_unix_s;
    a.detail = w->status.detail;
    a.draining = draining(a.account);
    a.pid = w->status.pid;
    a.started_unix_ms = w->status.started_unix_ms;
    a.health_until_unix_ms = w->status.health_until_unix_ms;
    if (auto r = restarts_.find(a.account); r != restarts_.end()) a.restarts = r->second;
    out.push_back(std::move(a));
  }
  return out;
}

std::string WorkerRegistry::unavailable_reasons(int64_t now_unix_ms) const {
  std::string out;
  for (const WorkerEntry* w : ordered()) {
    if (classify_health(w->status.health, w->status.health_until_unix_ms, now_unix_ms) ==
        HealthClass::kOk) {
      continue;
    }
    if (!out.empty()) out += ", ";
    out += describe_health(w->status.account, w->status.health, w->status.health_until_unix_ms,
                           now_unix_ms);
  }
  return out;
}

std::string WorkerRegistry::describe_shortage(int64_t now_unix_ms) const {
  if (workers_.empty()) return "no worker is connected";
  size_t ok = 0;
  for (const auto& [id, w] : workers_) {
    if (classify_health(w.status.health, w.status.health_until_unix_ms, now_unix_ms) ==
        HealthClass::kOk) {
      ++ok;
    }
  }
  if (ok == 0) return "no Qwen account is available: " + unavailable_reasons(now_unix_ms);
  if (ok == workers_.size()) {
    if (ok == 1) return "the only worker is busy";
    return "all " + std::to_string(ok) + " workers are busy";
  }
  std::string out = ok == 1 ? "the only available worker is busy"
                            : "all " + std::to_string(ok) + " available workers are busy";
  return out + " (" + unavailable_reasons(now_unix_ms) + ")";
}

}  // namespace qp::broker
