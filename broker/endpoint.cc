#include "broker/endpoint.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace qp::broker {

std::string ipc_path(std::string_view endpoint) {
  constexpr std::string_view kPrefix = "ipc://";
  if (endpoint.substr(0, kPrefix.size()) != kPrefix) return {};
  return std::string(endpoint.substr(kPrefix.size()));
}

Status ensure_ipc_directory(std::string_view endpoint) {
  std::string path = ipc_path(endpoint);
  if (path.empty()) return Status();
  // An abstract socket ("ipc://@name") has no directory.
  if (path[0] == '@') return Status();
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return Status();
  std::string dir = path.substr(0, slash);
  // mkdir -p, one component at a time.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) == 0) continue;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(part.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    return error(Code::kIo, "cannot create directory " + part + " for " + std::string(endpoint) +
                                ": " + std::strerror(err));
  }
  return Status();
}

}  // namespace qp::broker
