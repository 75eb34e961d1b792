#include "tools/launcher/notify_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace qp::launcher {

NotifySocket::NotifySocket(uv_loop_t* loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {}

NotifySocket::~NotifySocket() { close(); }

Status NotifySocket::open(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return error(Code::kInvalidArgument, "notify socket path must be 1.." +
                                             std::to_string(sizeof(addr.sun_path) - 1) +
                                             " bytes: " + path);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  addr.sun_family = AF_UNIX;

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return error(Code::kIo, std::string("notify socket: ") + std::strerror(errno));
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
    int err = errno;
    ::close(fd);
    return error(Code::kIo, std::string("notify socket SO_PASSCRED: ") + std::strerror(err));
  }
  ::unlink(path.c_str());  // a stale socket from a launcher that died (our pid is in the name)
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {  // NOLINT: sockaddr API
    int err = errno;
    ::close(fd);
    return error(Code::kIo, "notify socket bind " + path + ": " + std::strerror(err));
  }
  fd_ = fd;
  path_ = path;
  int rc = uv_poll_init(loop_, poll_.get(), fd_);
  if (rc == 0) {
    poll_.get()->data = this;
    rc = uv_poll_start(poll_.get(), UV_READABLE, &NotifySocket::on_poll);
  }
  if (rc != 0) {
    close();
    return error(Code::kIo, std::string("notify socket poll: ") + uv_strerror(rc));
  }
  return Status();
}

void NotifySocket::close() {
  poll_.reset();  // uv_close stops polling now; the fd may be closed after
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
}

void NotifySocket::on_poll(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<NotifySocket*>(handle->data);
  if (self == nullptr) return;
  try {
    if (status < 0) {
      QP_WARN("notify_poll_error").kv("error", uv_strerror(status));
      return;
    }
    self->drain();
  } catch (const std::exception& e) {
    QP_ERROR("notify_handler_exception").kv("error", e.what());
  } catch (...) {
    QP_ERROR("notify_handler_exception").kv("error", "unknown");
  }
}

void NotifySocket::drain() {
  char buf[kMaxDatagram];
  // Room for credentials plus a few passed fds (which we close).
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 16)];
  while (fd_ >= 0) {
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        QP_WARN("notify_recv_error").kv("error", std::strerror(errno));
      }
      return;
    }
    pid_t sender = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        sender = cred.pid;
      } else if (c->cmsg_type == SCM_RIGHTS) {
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int passed = -1;
          std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
          if (passed >= 0) ::close(passed);
        }
      }
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
      QP_WARN("notify_dropped")
          .kv("reason", "truncated")
          .kv("sender_pid", static_cast<int64_t>(sender));
      continue;
    }
    if (sender <= 0) {
      QP_WARN("notify_dropped").kv("reason", "no credentials");
      continue;
    }
    handler_(sender, std::string_view(buf, static_cast<size_t>(n)));
  }
}

}  // namespace qp::launcher
