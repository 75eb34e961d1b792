#include "common/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace qp::fs {

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status make_dirs(const std::string& path, mode_t leaf_mode, mode_t parent_mode) {
  if (path.empty()) return error(Code::kInvalidArgument, "empty directory path");
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string part = path.substr(0, pos);
    mode_t mode = pos == path.size() ? leaf_mode : parent_mode;
    if (::mkdir(part.c_str(), mode) == 0) continue;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(part.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    if (err == EEXIST) return error(Code::kIo, part + " exists and is not a directory");
    return error(Code::kIo, "cannot create directory " + part + ": " + std::strerror(err));
  }
  return Status();
}

Status check_private_dir(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return error(Code::kIo, "cannot use directory " + path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    return error(Code::kIo,
                 path +
                     " is a symbolic link; refusing it as a private directory (remove it, "
                     "or point the configuration at the real directory)");
  }
  if (!S_ISDIR(st.st_mode)) return error(Code::kIo, path + " is not a directory");
  if (st.st_uid != ::geteuid()) {
    return error(Code::kIo,
                 path + " belongs to uid " + std::to_string(st.st_uid) +
                     ", not to this user (uid " + std::to_string(::geteuid()) +
                     "); another user may have prepared it: remove it, or set runtime_dir / "
                     "state_dir to a directory of your own");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return error(Code::kIo,
                 path + " can be written by other users (mode " + mode + "): chmod 700 " + path);
  }
  return Status();
}

Status ensure_private_dir(const std::string& path) {
  if (Status s = make_dirs(path); !s.ok()) return s;
  return check_private_dir(path);
}

Status ensure_ipc_directory(const std::string& endpoint) {
  constexpr std::string_view kPrefix = "ipc://";
  if (!std::string_view(endpoint).starts_with(kPrefix)) return Status();
  std::string path = endpoint.substr(kPrefix.size());
  if (path.empty() || path[0] == '@') return Status();
  return ensure_private_dir(dir_of(path));
}

}  // namespace qp::fs
