// RAII for libuv leaf handles (timer, signal, async, poll, idle, check).
//
// libuv requires uv_close() before the memory is released, and the memory
// may only be freed in (or after) the close callback. UvHandle owns a heap
// handle and hands it to the loop on destruction: the close callback deletes
// it. Pattern taken from zeromq.js UvDeleter and CMake cmUVHandlePtr.
#pragma once

#include <utility>

#include <uv.h>

namespace qp::uv {

template <typename T>
class Handle {
 public:
  Handle() : h_(new T{}) {}  // zero-initialised: type == UV_UNKNOWN_HANDLE until *_init
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  T* get() const { return h_; }
  uv_handle_t* base() const {
    return reinterpret_cast<uv_handle_t*>(h_);
  }  // NOLINT: libuv C inheritance
  explicit operator bool() const { return h_ != nullptr; }

  // The only place uv_close is called for this handle. Safe to call twice.
  void reset() {
    if (h_ == nullptr) return;
    auto* b = base();
    if (b->type == UV_UNKNOWN_HANDLE) {
      delete h_;  // never initialised: must not uv_close
    } else if (!uv_is_closing(b)) {
      b->data = nullptr;
      uv_close(b, [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });  // NOLINT
    }
    h_ = nullptr;
  }

 private:
  T* h_;
};

using Timer = Handle<uv_timer_t>;
using Signal = Handle<uv_signal_t>;
using Poll = Handle<uv_poll_t>;
using Idle = Handle<uv_idle_t>;
using Async = Handle<uv_async_t>;
using Check = Handle<uv_check_t>;

// Closes every handle still open on the loop, runs it until empty and closes
// it. Returns the result of uv_loop_close (0 when nothing leaked).
int close_loop(uv_loop_t* loop);

// Milliseconds since the Unix epoch (wall clock).
int64_t now_unix_ms();

}  // namespace qp::uv
