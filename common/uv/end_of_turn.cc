#include "common/uv/end_of_turn.h"

namespace qp::uv {

void EndOfTurn::arm(uv_loop_t* loop, Fn fn, void* arg) {
  if (armed_) return;
  if (!check_) check_ = Check();  // after close()
  if (!idle_) idle_ = Idle();
  if (check_.base()->type == UV_UNKNOWN_HANDLE) {
    uv_check_init(loop, check_.get());
    uv_idle_init(loop, idle_.get());
  }
  check_.get()->data = this;
  idle_.get()->data = this;
  fn_ = fn;
  arg_ = arg;
  armed_ = true;
  uv_check_start(check_.get(), [](uv_check_t* h) {
    if (h->data != nullptr) static_cast<EndOfTurn*>(h->data)->run();
  });
  uv_idle_start(idle_.get(), [](uv_idle_t*) {});  // only keeps poll from blocking
}

void EndOfTurn::disarm() {
  if (!armed_) return;
  armed_ = false;
  uv_check_stop(check_.get());
  uv_idle_stop(idle_.get());
}

void EndOfTurn::close() {
  disarm();
  check_.reset();
  idle_.reset();
}

void EndOfTurn::run() {
  Fn fn = fn_;
  void* arg = arg_;
  disarm();
  if (fn != nullptr) fn(arg);
}

}  // namespace qp::uv
