#include "worker/chat_reaper.h"

#include <algorithm>
#include <exception>

#include "common/log.h"
#include "common/uv/callback.h"
#include "worker/qwen_client.h"

namespace qp::worker {

ChatReaper::ChatReaper(QwenClient* client, uint64_t idle_ms) : client_(client), idle_ms_(idle_ms) {}

void ChatReaper::start() {
  if (started_ || !client_->delete_chats()) return;
  started_ = true;
  uv_timer_init(client_->multi()->loop(), timer_.get());
  timer_.get()->data = this;
  uint64_t every = std::clamp<uint64_t>(idle_ms_ / 2, 50, 60'000);
  uv_timer_start(timer_.get(), uv::method<&ChatReaper::on_timer>, every, every);
}

void ChatReaper::on_timer() { sweep(uv_now(client_->multi()->loop())); }

void ChatReaper::stop() {
  started_ = false;
  timer_.reset();
}

void ChatReaper::touch(const std::string& chat_id) {
  if (!started_ || chat_id.empty()) return;
  last_used_[chat_id] = uv_now(client_->multi()->loop());
}

size_t ChatReaper::sweep(uint64_t now_ms) {
  size_t n = 0;
  for (auto it = last_used_.begin(); it != last_used_.end();) {
    if (now_ms >= it->second && now_ms - it->second >= idle_ms_) {
      client_->delete_chat_soon(it->first);
      it = last_used_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  if (n > 0) QP_DEBUG("reaper.deleted").kv("chats", static_cast<uint64_t>(n));
  return n;
}

}  // namespace qp::worker
