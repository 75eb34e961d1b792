#include "worker/upstream_recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/uv/handle.h"

namespace qp::worker {

UpstreamRecorder::UpstreamRecorder(std::string path, uint64_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes) {}

UpstreamRecorder::~UpstreamRecorder() {
  if (fd_ >= 0) ::close(fd_);
}

std::string UpstreamRecorder::expand_path(std::string_view path, std::string_view account) {
  std::string out(path);
  constexpr std::string_view kVar = "{account}";
  for (size_t pos = out.find(kVar); pos != std::string::npos; pos = out.find(kVar, pos)) {
    out.replace(pos, kVar.size(), account);
    pos += account.size();
  }
  return out;
}

Status UpstreamRecorder::open() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return error(Code::kIo,
                 "cannot open the recording file " + path_ + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return error(Code::kIo, "the recording file " + path_ + " is not a regular file");
  }
  if ((st.st_mode & 0777) != 0600 && ::fchmod(fd, 0600) != 0) {
    int e = errno;
    ::close(fd);
    return error(Code::kIo, "cannot make the recording file " + path_ +
                                " private (chmod 600): " + std::strerror(e));
  }
  fd_ = fd;
  size_ = static_cast<uint64_t>(st.st_size);
  QP_INFO("record.started").kv("path", path_).kv("max_bytes", max_bytes_);
  return Status();
}

std::unique_ptr<record::ExchangeRecord> UpstreamRecorder::begin(
    std::string_view method, std::string_view url, const std::vector<std::string>& headers,
    std::string_view body) {
  if (!active()) return nullptr;
  return std::make_unique<record::ExchangeRecord>(&redactor_, method, url, headers, body,
                                                  uv::now_unix_ms(),
                                                  std::min(max_bytes_, kMaxExchangeBytes));
}

void UpstreamRecorder::write(const std::string& line) {
  if (!active()) return;
  if (size_ + line.size() > max_bytes_) {
    stop("record.limit_reached", "the file would exceed upstream.record_max_bytes");
    return;
  }
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      stop("record.write_failed", n < 0 ? std::strerror(errno) : "short write");
      return;
    }
    off += static_cast<size_t>(n);
  }
  size_ += line.size();
}

void UpstreamRecorder::stop(const char* event, std::string_view detail) {
  stopped_ = true;
  QP_WARN(event)
      .kv("path", path_)
      .kv("bytes", size_)
      .kv("max_bytes", max_bytes_)
      .kv("detail", detail);
}

}  // namespace qp::worker
