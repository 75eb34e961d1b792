#include "common/uv/process_signals.h"

#include <csignal>
#include <utility>

#include "common/notify.h"
#include "common/uv/callback.h"

namespace qp::uv {

ProcessSignals::ProcessSignals(uv_loop_t* loop, Options options)
    : loop_(loop), options_(std::move(options)) {}

void ProcessSignals::start() {
  for (auto [handle, signum] : {std::pair{&sigint_, SIGINT}, std::pair{&sigterm_, SIGTERM}}) {
    uv_signal_init(loop_, handle->get());
    handle->get()->data = this;
    uv_signal_start(handle->get(), uv::method<&ProcessSignals::on_signal>, signum);
    uv_unref(handle->base());
  }
  if (options_.on_reload) {
    uv_signal_init(loop_, sighup_.get());
    sighup_.get()->data = this;
    uv_signal_start(sighup_.get(), uv::method<&ProcessSignals::on_hup>, SIGHUP);
    uv_unref(sighup_.base());
  }
  if (uint64_t interval_ms = notify::watchdog_interval_ms(); options_.watchdog && interval_ms > 0) {
    uint64_t every_ms = std::max<uint64_t>(interval_ms / 2, 1);
    uv_timer_init(loop_, watchdog_.get());
    watchdog_.get()->data = this;
    uv_timer_start(watchdog_.get(), uv::method<&ProcessSignals::on_watchdog>, 0, every_ms);
    uv_unref(watchdog_.base());
  }
}

void ProcessSignals::close() {
  sigint_.reset();
  sigterm_.reset();
  sighup_.reset();
  watchdog_.reset();
}

const char* ProcessSignals::name(int signum) {
  switch (signum) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
  }
}

void ProcessSignals::on_signal(int signum) {
  if (options_.on_stop) options_.on_stop(signum);
}

void ProcessSignals::on_hup() { options_.on_reload(); }

void ProcessSignals::on_watchdog() { notify::watchdog(); }

}  // namespace qp::uv
