// The receiving end of the sd_notify protocol: a unix datagram socket with
// SO_PASSCRED, driven by a uv_poll on the loop that owns it. Each datagram is
// handed to the handler with the sender's pid taken from the kernel-attached
// credentials (never from the payload), so a child cannot speak for another.
//
// Datagrams without credentials, truncated ones (> kMaxDatagram bytes) and
// any passed file descriptors are dropped.
//
// Loop thread only. Not copyable or movable: the poll handle points at it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/uv/handle.h"

namespace qp::launcher {

class NotifySocket {
 public:
  static constexpr size_t kMaxDatagram = 4096;
  using Handler = std::function<void(pid_t sender, std::string_view payload)>;

  NotifySocket(uv_loop_t* loop, Handler handler);
  ~NotifySocket();  // stops polling, closes the socket and unlinks its path
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Binds `path` (a stale file there is replaced) and starts polling.
  // REQUIRES: not open yet; the directory exists.
  Status open(const std::string& path);
  void close();
  const std::string& path() const { return path_; }

 private:
  static void on_poll(uv_poll_t* handle, int status, int events);
  void drain();

  uv_loop_t* loop_;
  Handler handler_;
  std::string path_;
  int fd_ = -1;
  uv::Poll poll_;
};

}  // namespace qp::launcher
