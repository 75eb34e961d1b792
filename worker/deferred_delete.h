// Destroys objects on a later loop iteration (Envoy's DeferredDeletable):
// an object whose own callback is on the stack (a curl transfer finishing,
// a timer firing) is handed here instead of being destroyed in place.
// Thread: the loop's thread only.
#pragma once

#include <memory>
#include <vector>

#include <uv.h>

#include "common/uv/handle.h"

namespace qp::worker {

class DeferredDelete {
 public:
  explicit DeferredDelete(uv_loop_t* loop);
  ~DeferredDelete();  // destroys what is still pending
  DeferredDelete(const DeferredDelete&) = delete;
  DeferredDelete& operator=(const DeferredDelete&) = delete;

  template <typename T>
  void add(std::unique_ptr<T> object) {
    if (!object) return;
    pending_.push_back(std::shared_ptr<void>(std::move(object)));
    schedule();
  }
  // Destroys everything pending now. REQUIRES: none of it is on the stack.
  void flush();
  size_t pending() const { return pending_.size(); }

 private:
  void schedule();

  uv_loop_t* loop_;
  uv::Idle idle_;
  bool active_ = false;
  std::vector<std::shared_ptr<void>> pending_;
};

}  // namespace qp::worker
