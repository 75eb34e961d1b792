#include "worker/deferred_delete.h"

#include <exception>

#include "common/log.h"
#include "common/uv/callback.h"

namespace qp::worker {

DeferredDelete::DeferredDelete(uv_loop_t* loop) : loop_(loop) {
  uv_idle_init(loop_, idle_.get());
  idle_.get()->data = this;
}

DeferredDelete::~DeferredDelete() {
  flush();
  idle_.reset();
}

void DeferredDelete::schedule() {
  if (active_) return;
  active_ = true;
  uv_idle_start(idle_.get(), uv::method<&DeferredDelete::flush>);
}

void DeferredDelete::flush() {
  // Destructors may defer more objects: loop until nothing is left.
  while (!pending_.empty()) {
    std::vector<std::shared_ptr<void>> batch;
    batch.swap(pending_);
    batch.clear();
  }
  if (active_) {
    active_ = false;
    uv_idle_stop(idle_.get());
  }
}

}  // namespace qp::worker
