// Pre-created upstream chats ("pre-warming"): each worker keeps up to
// `prewarm_chats` chats ready per popular model, so a new conversation skips
// the POST /api/v2/chats/new round trip (hundreds of ms on the real site) and
// goes straight to the completion.
//
// How many: at least `prewarm_chats`, more when new conversations arrive
// faster than chats/new can replace them (Little's law: take rate ×
// creation latency, both moving averages, doubled for bursts; at most
// kMaxPoolChats), so a slow chats/new stays off the request path.
//
// Which models: the configured default model plus the most used ones (by
// take() calls since start), `prewarm_models` in all. A chat unused for
// `prewarm_ttl_ms` is dropped (and deleted upstream if
// upstream.delete_chats) and replaced. A failed creation backs that model
// off for kFailureBackoffMs, so a rate-limited or blocked account is not
// hammered; the pool never reports failures to clients (a request without a
// ready chat just creates its own).
//
// I/O goes through the QwenClient's CurlMulti; refills start from a timer,
// never inside libcurl callbacks. Thread: the loop's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/uv/handle.h"
#include "worker/deferred_delete.h"
#include "worker/http_request.h"
#include "worker/qwen_requests.h"

namespace qp::worker {

class QwenClient;

inline constexpr int64_t kFailureBackoffMs = 30'000;
inline constexpr size_t kMaxPoolChats = 32;

class ChatPool {
 public:
  ChatPool(QwenClient* client, DeferredDelete* deferred, const WorkerConfig& config);
  ~ChatPool();
  ChatPool(const ChatPool&) = delete;
  ChatPool& operator=(const ChatPool&) = delete;

  // Warms the default model and starts the expiry timer. No-op when
  // prewarm_chats is 0.
  void start();
  // Aborts creations and forgets the ready chats (deleting them upstream if
  // configured). Idempotent.
  void stop();

  // A ready chat for `variant`, or empty. Counts the use (popularity) and
  // schedules a refill either way.
  std::string take(const ModelVariant& variant);
  size_t ready(const ModelVariant& variant) const;
  size_t creating() const { return creations_.size(); }
  // Ready chats over all models.
  size_t ready_total() const;
  // How many chats the pool of `variant` aims to keep ready.
  size_t target_for(const ModelVariant& variant) const;

 private:
  class Creation;
  struct Entry {
    std::string chat_id;
    int64_t created_ms = 0;  // loop time
  };
  struct Pool {
    ModelVariant variant;
    std::string key;
    std::deque<Entry> ready;
    size_t creating = 0;
    uint64_t uses = 0;
    int64_t backoff_until_ms = 0;
    double take_rate_per_s = 0;  // moving average of take()s
    int64_t last_take_ms = -1;
    double create_ms = 0;  // moving average of chats/new latency
  };
  size_t target(const Pool& p) const;

  Pool& pool_for(const ModelVariant& variant);
  const Pool* find(const ModelVariant& variant) const;
  void schedule_refill();
  void refill();
  void expire();
  void on_created(Creation* c, std::string chat_id);  // empty: failed
  bool warm(const Pool& p) const;
  int64_t now_ms() const;

  QwenClient* client_;
  DeferredDelete* deferred_;
  WorkerConfig config_;
  std::list<Pool> pools_;
  std::list<std::unique_ptr<Creation>> creations_;
  uv::Timer refill_timer_;
  uv::Timer expiry_timer_;
  bool started_ = false;
};

}  // namespace qp::worker
