#include "tools/bench/precise_timer.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qp::bench {

PreciseTimer::PreciseTimer(uv_loop_t* loop) : loop_(loop) {}

PreciseTimer::~PreciseTimer() { close(); }

Status PreciseTimer::start(std::function<void()> on_fire) {
  on_fire_ = std::move(on_fire);
  fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) return Status(Code::kIo, std::string("timerfd_create: ") + std::strerror(errno));
  int r = uv_poll_init(loop_, poll_.get(), fd_);
  if (r < 0) return Status(Code::kIo, std::string("uv_poll_init: ") + uv_strerror(r));
  poll_.get()->data = this;
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* p, int status, int) {
    auto* self = static_cast<PreciseTimer*>(p->data);
    if (self == nullptr || status < 0) return;
    uint64_t expirations = 0;
    while (::read(self->fd_, &expirations, sizeof expirations) > 0) {
    }
    try {
      self->on_fire_();
    } catch (...) {  // no exception crosses the C callback
    }
  });
  return Status();
}

void PreciseTimer::arm_at(uint64_t deadline_ns) {
  if (fd_ < 0) return;
  itimerspec its{};
  if (deadline_ns == 0) deadline_ns = 1;  // 0 would disarm
  its.it_value.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
  its.it_value.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
  timerfd_settime(fd_, TFD_TIMER_ABSTIME, &its, nullptr);
}

void PreciseTimer::disarm() {
  if (fd_ < 0) return;
  itimerspec its{};
  timerfd_settime(fd_, 0, &its, nullptr);
}

void PreciseTimer::close() {
  poll_.reset();  // uv_close first; the fd is closed after (libuv only stops watching it)
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace qp::bench
