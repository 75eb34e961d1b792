// Deletes the upstream chats of conversations nobody continues any more
// (upstream.delete_chats). A turn that may be continued keeps its chat; the
// reaper remembers when each such chat was last used and deletes it once it has
// been idle for the conversation TTL (sessions.ttl_ms, the same TTL after which
// the broker's index forgets the conversation, so a deleted chat is never
// continued: that would only cost a replay anyway).
//
// In memory: chats of a worker that restarts are not deleted by it.
// Thread: the loop's thread only.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/uv/handle.h"

namespace qp::worker {

class QwenClient;

class ChatReaper {
 public:
  ChatReaper(QwenClient* client, uint64_t idle_ms);
  ChatReaper(const ChatReaper&) = delete;
  ChatReaper& operator=(const ChatReaper&) = delete;

  // Starts the sweep timer; no-op unless the client deletes chats.
  void start();
  void stop();
  // `chat_id` was used by a turn that may be continued.
  void touch(const std::string& chat_id);
  // Deletes the chats idle for idle_ms at loop time now_ms. Returns how many.
  size_t sweep(uint64_t now_ms);
  size_t tracked() const { return last_used_.size(); }

 private:
  void on_timer();

  QwenClient* client_;
  uint64_t idle_ms_;
  bool started_ = false;
  uv::Timer timer_;
  std::unordered_map<std::string, uint64_t> last_used_;  // chat id -> loop time
};

}  // namespace qp::worker
