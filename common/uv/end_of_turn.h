// Runs a callback once at the end of the current loop turn, after its poll
// phase, without letting that turn's poll block.
//
// Used to collect work of one turn (response bytes, CHUNKS entries) and send
// it once: whatever became ready in the turn leaves in that turn, never later
// and never on a timer. A uv_check handle runs right after the poll phase;
// an idle handle is active while armed, because libuv polls with a zero
// timeout while any idle handle is active: arming from a timer or idle
// callback must not wait for the next I/O event.
//
//   EndOfTurn flush_;
//   flush_.arm(loop, [](void* self) { static_cast<T*>(self)->flush(); }, this);
//
// The object must not move while armed (the handles point back to it).
#pragma once

#include <uv.h>

#include "common/uv/handle.h"

namespace qp::uv {

class EndOfTurn {
 public:
  using Fn = void (*)(void* arg);

  EndOfTurn() = default;
  EndOfTurn(const EndOfTurn&) = delete;
  EndOfTurn& operator=(const EndOfTurn&) = delete;

  // Arms: `fn(arg)` runs once at the end of this turn. Arming again before
  // it ran does nothing (the first fn and arg stay). `fn` must not throw.
  void arm(uv_loop_t* loop, Fn fn, void* arg);
  // Cancels a pending run.
  void disarm();
  // Closes the handles (disarmed); arm() opens new ones.
  void close();
  bool armed() const { return armed_; }

 private:
  void run();

  Check check_;
  Idle idle_;
  Fn fn_ = nullptr;
  void* arg_ = nullptr;
  bool armed_ = false;
};

}  // namespace qp::uv
