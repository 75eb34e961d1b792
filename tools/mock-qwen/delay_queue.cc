#include "tools/mock-qwen/delay_queue.h"

#include <exception>

#include "common/log.h"

namespace qp::mock {

void DelayQueue::after(int64_t delay_ms, std::function<void()> fn) {
  auto item = std::make_unique<Item>();
  item->owner = this;
  item->id = next_id_++;
  item->fn = std::move(fn);
  uv_timer_init(loop_, item->timer.get());
  item->timer.get()->data = item.get();
  uv_update_time(loop_);  // never fire earlier than delay_ms after this call
  uv_timer_start(item->timer.get(), &DelayQueue::on_timer,
                 static_cast<uint64_t>(delay_ms < 0 ? 0 : delay_ms), 0);
  items_.emplace(item->id, std::move(item));
}

void DelayQueue::on_timer(uv_timer_t* t) {
  auto* item = static_cast<Item*>(t->data);
  if (item == nullptr) return;
  DelayQueue* self = item->owner;
  std::function<void()> fn = std::move(item->fn);
  // Destroys the Item; its timer handle is closed and freed by the loop later.
  self->items_.erase(item->id);
  try {
    if (fn) fn();
  } catch (const std::exception& e) {
    QP_ERROR("mock.delay_callback_failed").kv("error", e.what());
  } catch (...) {
    QP_ERROR("mock.delay_callback_failed").kv("error", "unknown exception");
  }
}

}  // namespace qp::mock
