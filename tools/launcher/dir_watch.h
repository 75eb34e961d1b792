// Watches a directory for changes to its entries (uv_fs_event: inotify on
// Linux) and calls `on_change` once a burst of events has settled (kSettleMs
// without a new event: an editor's write-temp-then-rename, or `cp` of a
// large file, is one change). As a safety net (events can be missed, e.g.
// when the directory is replaced or did not exist yet) `on_change` also runs
// every kRescanMs, and the watch is retried then if it could not be set.
// What changed is not reported: the caller rescans (its decision is
// idempotent). Thread: the loop's thread only. The handles never keep the
// loop alive.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <uv.h>

#include "common/uv/handle.h"

namespace qp::launcher {

class DirWatch {
 public:
  static constexpr uint64_t kSettleMs = 100;
  static constexpr uint64_t kRescanMs = 5000;

  DirWatch(uv_loop_t* loop, std::function<void()> on_change);
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  // Starts watching `dir` (which may not exist yet). Never fails: a watch
  // that cannot be set is logged and retried at each rescan.
  void start(const std::string& dir);
  void stop();
  bool watching() const { return event_ && event_.base()->type != UV_UNKNOWN_HANDLE; }

 private:
  void try_watch();
  void changed();  // (re)arms the settle timer
  void on_rescan();
  void on_event(const char* filename, int events, int status);
  void on_settled() { on_change_(); }

  uv_loop_t* loop_;
  std::function<void()> on_change_;
  std::string dir_;
  uv::Handle<uv_fs_event_t> event_;
  uv::Timer settle_;
  uv::Timer rescan_;
  bool warned_ = false;
};

}  // namespace qp::launcher
