#include "tools/launcher/system.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "tools/launcher/port_holder.h"

namespace qp::launcher {

Result<std::string> self_exe_dir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return error(Code::kIo, "cannot locate the qwenproxy executable: " + ec.message());
  return exe.parent_path().string();
}

Result<std::string> find_binary(const std::vector<std::string>& dirs, std::string_view name) {
  std::string searched;
  for (const auto& dir : dirs) {
    std::string path = dir;
    if (!path.empty() && path.back() != '/') path.push_back('/');
    path.append(name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(path.c_str(), X_OK) == 0) {
      return path;
    }
    if (!searched.empty()) searched.append(", ");
    searched.append(dir);
  }
  return error(Code::kNotFound, "cannot find the executable '" + std::string(name) + "' in " +
                                    (searched.empty() ? std::string("(no directory)") : searched) +
                                    " (use --bin-dir DIR)");
}

Result<std::string> random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error(Code::kIo, std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (char c : raw) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

Result<int> listen_tcp(const std::string& host_in, int port, int* bound_port) {
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);   // NOLINT: sockaddr C API
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);  // NOLINT
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    return error(Code::kInvalidArgument, "frontend.host '" + host_in + "' is not an IP address");
  }
  std::string where = host_in + ":" + std::to_string(port);
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return error(Code::kIo, "socket(): " + std::string(std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {  // NOLINT
    int e = errno;
    ::close(fd);
    if (e == EADDRINUSE) {
      std::string holder = describe_port_holder(port);
      std::string by =
          holder.empty()
              ? "another process (see `ss -ltnp 'sport = :" + std::to_string(port) + "'`)"
              : holder;
      return error(Code::kIo, "port " + std::to_string(port) + " on " + host_in +
                                  " is already in use by " + by +
                                  "; choose another with QP_PORT or frontend.port");
    }
    return error(Code::kIo, "cannot listen on " + where + ": " + std::strerror(e));
  }
  if (::listen(fd, 511) != 0) {
    int e = errno;
    ::close(fd);
    return error(Code::kIo, "cannot listen on " + where + ": " + std::strerror(e));
  }
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);  // NOLINT
  *bound_port = ntohs(family == AF_INET ? v4->sin_port : v6->sin6_port);
  return fd;
}

}  // namespace qp::launcher
