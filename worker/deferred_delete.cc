#include "worker/deferred_delete.h"

#include <exception>

#include "common/log.h"

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
  uv_idle_start(idle_.get(), [](uv_idle_t* h) {
    auto* self = static_cast<DeferredDelete*>(h->data);
    if (self == nullptr) return;
    try {
      self->flush();
    } catch (const std::exception& e) {
      QP_ERROR("deferred_delete.exception").kv("error", e.what());
    } catch (...) {
      QP_ERROR("deferred_delete.exception");
    }
  });
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
