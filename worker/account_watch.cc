#include "worker/account_watch.h"

#include <exception>

#include "common/log.h"
#include "common/uv/callback.h"

namespace qp::worker {

AccountWatch::AccountWatch(uv_loop_t* loop, std::function<void()> on_change)
    : loop_(loop), on_change_(std::move(on_change)) {}

Status AccountWatch::start(const std::string& path) {
  stop();
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  name_ = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name_.empty()) return error(Code::kInvalidArgument, "no file name in " + path);
  event_ = uv::Handle<uv_fs_event_t>();
  if (int r = uv_fs_event_init(loop_, event_.get()); r != 0) {
    return error(Code::kIo, std::string("cannot watch ") + dir + ": " + uv_strerror(r));
  }
  event_.get()->data = this;
  int r = uv_fs_event_start(event_.get(), uv::method<&AccountWatch::on_event>, dir.c_str(), 0);
  if (r != 0) {
    event_.reset();
    return error(Code::kIo, std::string("cannot watch ") + dir + ": " + uv_strerror(r));
  }
  uv_unref(event_.base());  // the watch never keeps the loop alive
  if (settle_.base()->type == UV_UNKNOWN_HANDLE) {
    uv_timer_init(loop_, settle_.get());
    uv_unref(settle_.base());  // a pending reload never keeps the loop alive
  }
  settle_.get()->data = this;
  path_ = path;
  return Status();
}

void AccountWatch::stop() {
  event_.reset();
  if (settle_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(settle_.get());
  path_.clear();
}

void AccountWatch::on_event(const char* filename, int /*events*/, int status) {
  if (status < 0) return;
  // Without a name (some platforms) any change in the directory counts.
  if (filename != nullptr && name_ != filename) return;
  uv_timer_start(settle_.get(), uv::method<&AccountWatch::on_settled>, kSettleMs, 0);
}

void AccountWatch::on_settled() {
  if (!path_.empty()) on_change_();
}

}  // namespace qp::worker
