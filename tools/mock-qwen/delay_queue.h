// Runs callbacks after a delay on the loop (delayed chats/new answers,
// stream:false answers). Each pending callback owns one libuv timer; clear()
// cancels everything without calling the callbacks. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include <uv.h>

#include "common/uv/handle.h"

namespace qp::mock {

class DelayQueue {
 public:
  explicit DelayQueue(uv_loop_t* loop) : loop_(loop) {}
  ~DelayQueue() { clear(); }
  DelayQueue(const DelayQueue&) = delete;
  DelayQueue& operator=(const DelayQueue&) = delete;

  // Calls fn after delay_ms from the loop (never synchronously from after()).
  // Exceptions thrown by fn are caught and logged.
  void after(int64_t delay_ms, std::function<void()> fn);
  void clear() { items_.clear(); }
  size_t size() const { return items_.size(); }

 private:
  struct Item {
    DelayQueue* owner = nullptr;
    uint64_t id = 0;
    uv::Timer timer;
    std::function<void()> fn;
  };
  static void on_timer(uv_timer_t* t);

  uv_loop_t* loop_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Item>> items_;
};

}  // namespace qp::mock
