#include "worker/chat_pool.h"

#include <algorithm>
#include <exception>

#include "common/log.h"
#include "common/uv/callback.h"
#include "worker/new_chat_parser.h"
#include "worker/qwen_client.h"

namespace qp::worker {
namespace {

std::string variant_key(const ModelVariant& v) {
  return v.search ? v.upstream_model + "+search" : v.upstream_model;
}

}  // namespace

// One POST /api/v2/chats/new for the pool.
class ChatPool::Creation final : private HttpRequest::Listener {
 public:
  Creation(ChatPool* pool, QwenClient* client, std::string key, const ModelVariant& v)
      : pool_(pool),
        key_(std::move(key)),
        started_ms_(static_cast<int64_t>(uv_now(client->multi()->loop()))),
        request_(
            client->multi(),
            client->make_spec(Endpoint::kNewChat, {},
                              new_chat_body(v.upstream_model, chat_type_of(v), uv::now_unix_ms())),
            this) {}
  Status start() { return request_.start(); }
  void abort() { request_.abort(); }
  const std::string& key() const { return key_; }
  int64_t started_ms() const { return started_ms_; }

 private:
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult result) override {
    std::string id;
    if (!result.failure && result.status == 200) {
      auto parsed = parse_new_chat(result.body);
      if (parsed) id = std::move(parsed.value());
    }
    if (id.empty()) {
      QP_WARN("prewarm.create_failed")
          .kv("model", key_)
          .kv("status", static_cast<int64_t>(result.status))
          .kv("error", result.failure ? result.failure->message : std::string("unexpected answer"));
    }
    pool_->on_created(this, std::move(id));  // last statement: may retire this
  }

  ChatPool* pool_;
  std::string key_;
  int64_t started_ms_;
  HttpRequest request_;
};

ChatPool::ChatPool(QwenClient* client, DeferredDelete* deferred, const WorkerConfig& config)
    : client_(client), deferred_(deferred), config_(config) {}

ChatPool::~ChatPool() { stop(); }

int64_t ChatPool::now_ms() const { return static_cast<int64_t>(uv_now(client_->multi()->loop())); }

void ChatPool::start() {
  if (config_.prewarm_chats == 0 || started_) return;
  started_ = true;
  uv_loop_t* loop = client_->multi()->loop();
  uv_timer_init(loop, refill_timer_.get());
  refill_timer_.get()->data = this;
  uv_timer_init(loop, expiry_timer_.get());
  expiry_timer_.get()->data = this;
  uint64_t every = std::clamp<uint64_t>(config_.prewarm_ttl_ms / 4, 1000, 60'000);
  uv_timer_start(expiry_timer_.get(), uv::method<&ChatPool::expire>, every, every);
  if (!config_.default_model.empty()) pool_for(parse_model_variant(config_.default_model));
  schedule_refill();
}

void ChatPool::stop() {
  if (!started_) return;
  started_ = false;
  for (auto& c : creations_) c->abort();
  creations_.clear();
  refill_timer_.reset();
  expiry_timer_.reset();
  for (Pool& p : pools_) {
    for (const Entry& e : p.ready) {
      if (client_->delete_chats()) client_->delete_chat_soon(e.chat_id);
    }
    p.ready.clear();
    p.creating = 0;
  }
}

ChatPool::Pool& ChatPool::pool_for(const ModelVariant& variant) {
  std::string key = variant_key(variant);
  for (Pool& p : pools_) {
    if (p.key == key) return p;
  }
  Pool& p = pools_.emplace_back();
  p.variant = variant;
  p.key = std::move(key);
  return p;
}

const ChatPool::Pool* ChatPool::find(const ModelVariant& variant) const {
  std::string key = variant_key(variant);
  for (const Pool& p : pools_) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

size_t ChatPool::ready(const ModelVariant& variant) const {
  const Pool* p = find(variant);
  return p != nullptr ? p->ready.size() : 0;
}

size_t ChatPool::ready_total() const {
  size_t n = 0;
  for (const Pool& p : pools_) n += p.ready.size();
  return n;
}

std::string ChatPool::take(const ModelVariant& variant) {
  if (!started_) return {};
  Pool& p = pool_for(variant);
  ++p.uses;
  const int64_t now = now_ms();
  if (p.last_take_ms >= 0) {
    double inst = 1000.0 / static_cast<double>(std::max<int64_t>(now - p.last_take_ms, 1));
    p.take_rate_per_s = 0.7 * p.take_rate_per_s + 0.3 * inst;
  }
  p.last_take_ms = now;
  std::string id;
  if (!p.ready.empty()) {
    id = std::move(p.ready.front().chat_id);
    p.ready.pop_front();
  }
  schedule_refill();
  return id;
}

// Warm: the prewarm_models most used models, ties going to the default
// model (so it is warm before any use), then to the older pool.
bool ChatPool::warm(const Pool& p) const {
  const std::string default_key = variant_key(parse_model_variant(config_.default_model));
  auto before = [&](const Pool& a, const Pool& b) {  // a ranks before b
    if (a.uses != b.uses) return a.uses > b.uses;
    if ((a.key == default_key) != (b.key == default_key)) return a.key == default_key;
    return false;
  };
  size_t rank = 0;
  bool seen_p = false;
  for (const Pool& other : pools_) {
    if (&other == &p) {
      seen_p = true;
      continue;
    }
    // Equal rank: the pool created first (earlier in the list) wins.
    if (before(other, p) || (!before(p, other) && !seen_p)) ++rank;
  }
  return rank < config_.prewarm_models;
}

void ChatPool::schedule_refill() {
  if (!started_) return;
  uv_timer_start(refill_timer_.get(), uv::method<&ChatPool::refill>, 0, 0);
}

void ChatPool::refill() {
  if (!started_) return;
  const int64_t now = now_ms();
  for (Pool& p : pools_) {
    if (!warm(p)) {
      // No longer popular: let its chats expire; make no new ones.
      continue;
    }
    if (p.backoff_until_ms > now) continue;
    while (p.ready.size() + p.creating < target(p)) {
      auto c = std::make_unique<Creation>(this, client_, p.key, p.variant);
      if (Status s = c->start(); !s.ok()) {
        QP_WARN("prewarm.create_failed").kv("model", p.key).kv("error", s.message());
        p.backoff_until_ms = now + kFailureBackoffMs;
        break;
      }
      ++p.creating;
      creations_.push_back(std::move(c));
    }
  }
}

void ChatPool::on_created(Creation* c, std::string chat_id) {
  for (auto it = creations_.begin(); it != creations_.end(); ++it) {
    if (it->get() != c) continue;
    for (Pool& p : pools_) {
      if (p.key != c->key()) continue;
      if (p.creating > 0) --p.creating;
      double took = static_cast<double>(now_ms() - c->started_ms());
      p.create_ms = p.create_ms == 0 ? took : 0.7 * p.create_ms + 0.3 * took;
      if (chat_id.empty()) {
        p.backoff_until_ms = now_ms() + kFailureBackoffMs;
      } else {
        p.ready.push_back(Entry{std::move(chat_id), now_ms()});
        QP_DEBUG("prewarm.ready").kv("model", p.key).kv("ready", p.ready.size());
      }
      break;
    }
    deferred_->add(std::move(*it));
    creations_.erase(it);
    break;
  }
  schedule_refill();
}

size_t ChatPool::target(const Pool& p) const {
  double in_flight = p.take_rate_per_s * p.create_ms / 1000.0;  // Little's law
  auto want = static_cast<size_t>(2.0 * in_flight + 1.0);
  return std::clamp<size_t>(want, config_.prewarm_chats, kMaxPoolChats);
}

size_t ChatPool::target_for(const ModelVariant& variant) const {
  const Pool* p = find(variant);
  return p != nullptr ? target(*p) : config_.prewarm_chats;
}

void ChatPool::expire() {
  const int64_t now = now_ms();
  for (Pool& p : pools_) {
    // A pool nobody takes from decays back to its floor.
    if (p.last_take_ms >= 0 && now - p.last_take_ms > 10'000) p.take_rate_per_s *= 0.5;
    while (!p.ready.empty() &&
           now - p.ready.front().created_ms >= static_cast<int64_t>(config_.prewarm_ttl_ms)) {
      if (client_->delete_chats()) client_->delete_chat_soon(p.ready.front().chat_id);
      p.ready.pop_front();
    }
  }
  schedule_refill();
}

}  // namespace qp::worker
