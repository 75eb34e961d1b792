// Worker account health and credentials: health changes (told to the
// broker at once), operator notices, credential reloads (worker.h).
#include "common/log.h"
#include "common/uv/callback.h"
#include "worker/worker.h"

namespace qp::worker {

using protocol::Command;

void Worker::set_health(const char* health, int64_t until_unix_ms, std::string detail) {
  if (std::string_view(health) == protocol::kHealthOk) detail.clear();
  if (std::string_view(health) == health_ && until_unix_ms == health_until_unix_ms_ &&
      detail == health_detail_) {
    return;
  }
  bool changed = std::string_view(health) != health_ || detail != health_detail_;
  if (std::string_view(health) != protocol::kHealthOk) ++health_epoch_;
  health_ = health;
  health_until_unix_ms_ = until_unix_ms;
  health_detail_ = std::move(detail);
  if (changed) {
    QP_WARN("account.health")
        .kv("account", account_.name)
        .kv("health", health_)
        .kv("until_unix_ms", until_unix_ms)
        .kv("detail", health_detail_);
  }
  send_status(Command::kHeartbeat);  // tell the broker now, not at the next tick
  check_notices();
}

void Worker::check_notices() {
  if (shutting_down_) return;
  notices_.check({account_.name, health_, health_detail_, accounts_.token_expires_unix_s()},
                 uv::now_unix_ms() / 1000);
}

void Worker::on_credentials(const AccountConfig& account) {
  account_ = account;
  client_.set_credentials(account);  // requests in flight keep their copies
  if (!accounts_.usable()) {
    set_health(protocol::kHealthCredentialsInvalid, 0, accounts_.problem());
    return;
  }
  if (!shutting_down_ && !draining_) pool_.start();
  if (std::string_view(health_) == protocol::kHealthCredentialsInvalid) {
    set_health(protocol::kHealthOk, 0);
  } else {
    send_status(Command::kHeartbeat);  // the new expiry, capacity
    check_notices();
  }
}

void Worker::on_credentials_invalid(const std::string& detail) {
  set_health(protocol::kHealthCredentialsInvalid, 0, detail);
}

}  // namespace qp::worker
