#include "common/accounts/private_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qp::accounts {
namespace {

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Status io_error(const std::string& what, const std::string& path, int err) {
  return error(Code::kIo, what + " " + path + ": " + std::strerror(err));
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Status write_all(int fd, const std::string& content, const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status();
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status check_private_mode(const std::string& path, mode_t mode) {
  if ((mode & (S_IRWXG | S_IRWXO)) == 0) return Status();
  return error(Code::kInvalidArgument, path + " can be read or written by other users (mode " +
                                           octal_mode(mode) +
                                           "); it holds credentials: run `chmod 600 " + path + "`");
}

Result<std::string> read_private_file(const std::string& path, uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return io_error("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) return error(Code::kInvalidArgument, path + " is not a regular file");
  if (Status s = check_private_mode(path, st.st_mode); !s.ok()) return s;
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return error(Code::kInvalidArgument, path + " is too large (" + std::to_string(st.st_size) +
                                             " bytes; at most " + std::to_string(max_bytes) + ")");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  // Read to EOF, but never past the cap (the file may grow while we read).
  for (;;) {
    if (got == out.size()) {
      if (out.size() > max_bytes) {
        return error(Code::kInvalidArgument,
                     path + " is too large (more than " + std::to_string(max_bytes) + " bytes)");
      }
      out.resize(out.size() + 4096);
    }
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  if (out.size() > max_bytes) {
    return error(Code::kInvalidArgument,
                 path + " is too large (more than " + std::to_string(max_bytes) + " bytes)");
  }
  return out;
}

Status write_private_file(const std::string& path, const std::string& content,
                          const WriteOptions& options) {
  std::string dir = dir_of(path);
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) return io_error("cannot use directory", dir, errno);
  if (!S_ISDIR(dst.st_mode)) return error(Code::kInvalidArgument, dir + " is not a directory");
  if (!options.replace && ::access(path.c_str(), F_OK) == 0) {
    return error(Code::kInvalidArgument, path + " already exists (use --force to replace it)");
  }
  std::string tmpl = dir + "/" + std::string(kPrivateTempPrefix) + "XXXXXX";
  // mkstemp creates the file with mode 0600 whatever the umask.
  Fd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot create a file in", dir, errno);
  std::string tmp = tmpl;
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail(io_error("cannot chmod", tmp, errno));
  if (options.owner_uid >= 0 && ::geteuid() == 0) {
    if (::fchown(fd.get(), static_cast<uid_t>(options.owner_uid),
                 static_cast<gid_t>(options.owner_gid)) != 0) {
      return fail(io_error("cannot chown", tmp, errno));
    }
  }
  if (Status s = write_all(fd.get(), content, tmp); !s.ok()) return fail(s);
  if (::fsync(fd.get()) != 0) return fail(io_error("cannot fsync", tmp, errno));
  if (::close(fd.release()) != 0) return fail(io_error("cannot close", tmp, errno));
  if (options.replace) {
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      return fail(io_error("cannot rename to", path, errno));
  } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    int e = errno;
    if (e == EEXIST) {
      return fail(
          error(Code::kInvalidArgument, path + " already exists (use --force to replace it)"));
    }
    return fail(io_error("cannot rename to", path, e));
  }
  // Make the rename durable too.
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  return Status();
}

}  // namespace qp::accounts
