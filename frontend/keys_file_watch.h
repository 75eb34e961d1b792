// Loads the keys file into ClientAuth and reloads it when it changes
// (uv_fs_poll: a stat every kPollMs, which also sees a file replaced by a
// rename, created or removed) or on reload() (SIGHUP).
//
// - No file: no keys-file keys (ClientAuth::clear_keys).
// - A valid file: its keys replace the previous ones.
// - A file that cannot be read or parsed (or is readable by other users):
//   the previous keys stay and the reason is logged. At start there are no
//   previous keys, so no keys-file key is accepted until the file is fixed
//   (fail closed); frontend.api_key still works.
//
// Thread: the loop's thread only. The poll handle never keeps the loop alive.
#pragma once

#include <cstdint>
#include <string>

#include <uv.h>

#include "common/uv/handle.h"
#include "frontend/client_auth.h"

namespace qp::frontend {

class KeysFileWatch {
 public:
  static constexpr uint64_t kPollMs = 500;

  KeysFileWatch(uv_loop_t* loop, std::string path, ClientAuth* auth);
  KeysFileWatch(const KeysFileWatch&) = delete;
  KeysFileWatch& operator=(const KeysFileWatch&) = delete;

  // Loads the file once and starts watching it.
  void start();
  // Loads the file again now; `why` goes to the log ("sighup", "changed").
  void reload(const char* why);
  void stop() { poll_.reset(); }
  void on_poll() { reload("changed"); }  // the file's stat changed

 private:
  enum class State { kNone, kAbsent, kLoaded, kInvalid };

  uv_loop_t* loop_;
  std::string path_;
  ClientAuth* auth_;
  State state_ = State::kNone;
  std::string last_error_;
  uv::Handle<uv_fs_poll_t> poll_;
};

}  // namespace qp::frontend
