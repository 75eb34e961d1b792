// Watches one account file for changes. The watch is on its directory
// (uv_fs_event, inotify on Linux), because `qwenproxy account import
// --force` and editors replace the file by a rename, which a watch on the
// file itself would stop seeing. Events for other names are ignored; a burst
// of events (write, then rename) is coalesced into one call of `on_change`
// after kSettleMs. Thread: the loop's thread only.
#pragma once

#include <functional>
#include <string>

#include <uv.h>

#include "common/status.h"
#include "common/uv/handle.h"

namespace qp::worker {

class AccountWatch {
 public:
  static constexpr uint64_t kSettleMs = 50;

  AccountWatch(uv_loop_t* loop, std::function<void()> on_change);
  ~AccountWatch() = default;
  AccountWatch(const AccountWatch&) = delete;
  AccountWatch& operator=(const AccountWatch&) = delete;

  // Watches `path` (replacing an earlier watch). An error (the directory
  // does not exist or cannot be watched) leaves nothing watched.
  Status start(const std::string& path);
  void stop();
  const std::string& path() const { return path_; }

 private:
  void on_event(const char* filename, int events, int status);
  void on_settled();

  uv_loop_t* loop_;
  std::function<void()> on_change_;
  std::string path_;
  std::string name_;  // the file name inside the watched directory
  uv::Handle<uv_fs_event_t> event_;
  uv::Timer settle_;
};

}  // namespace qp::worker
