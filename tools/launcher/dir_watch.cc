#include "tools/launcher/dir_watch.h"

#include <exception>

#include "common/log.h"
#include "common/uv/callback.h"

namespace qp::launcher {

DirWatch::DirWatch(uv_loop_t* loop, std::function<void()> on_change)
    : loop_(loop), on_change_(std::move(on_change)) {}

void DirWatch::start(const std::string& dir) {
  stop();
  dir_ = dir;
  settle_ = uv::Timer();
  rescan_ = uv::Timer();
  for (auto* t : {&settle_, &rescan_}) {
    uv_timer_init(loop_, t->get());
    t->get()->data = this;
    uv_unref(t->base());
  }
  try_watch();
  uv_timer_start(rescan_.get(), uv::method<&DirWatch::on_rescan>, kRescanMs, kRescanMs);
}

void DirWatch::on_rescan() {
  if (!watching()) try_watch();
  on_change_();
}

void DirWatch::on_event(const char*, int, int status) {
  // The directory went away (or the watch broke): the rescan sets a new one
  // when it is back.
  if (status < 0) event_.reset();
  changed();
}

void DirWatch::stop() {
  event_.reset();
  settle_.reset();
  rescan_.reset();
}

void DirWatch::try_watch() {
  event_ = uv::Handle<uv_fs_event_t>();
  int r = uv_fs_event_init(loop_, event_.get());
  if (r == 0) {
    event_.get()->data = this;
    r = uv_fs_event_start(event_.get(), uv::method<&DirWatch::on_event>, dir_.c_str(), 0);
  }
  if (r != 0) {
    event_.reset();
    if (!warned_) {
      // A directory that does not exist (yet) is normal: no account files.
      QP_LOG(r == UV_ENOENT ? log::Level::kInfo : log::Level::kWarn,
             "launcher.accounts_dir_unwatched")
          .kv("dir", dir_)
          .kv("error", uv_strerror(r))
          .kv("rescan_ms", kRescanMs);
      warned_ = true;
    }
    return;
  }
  uv_unref(event_.base());
  if (warned_) {
    QP_INFO("launcher.accounts_dir_watched").kv("dir", dir_);
    warned_ = false;
    changed();  // it appeared: look at once
  }
}

void DirWatch::changed() {
  uv_timer_start(settle_.get(), uv::method<&DirWatch::on_settled>, kSettleMs, 0);
}

}  // namespace qp::launcher
