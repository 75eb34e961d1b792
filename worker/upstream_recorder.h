// Writes a worker's upstream exchanges to a recording file as JSON lines
// (docs/recording.md, exchange_record.h for the format), when
// upstream.record_file is set. Off (no recorder at all) otherwise: then an
// upstream request costs one null-pointer test.
//
// File: opened once with O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC and
// mode 0600 (an existing file is chmod-ed to 0600), so several workers can
// append to the same file. "{account}" in the path is replaced by the
// account name (one file per account).
//
// Cost on the loop: while an exchange runs, each response chunk is an
// in-memory append (and an SSE event a redaction pass) in its
// ExchangeRecord; when it ends, its line is written with one write(2)
// (whole lines only, so lines of several workers never interleave). A
// local file's write goes to the page cache; do not put the file on a
// network filesystem.
//
// Bounded: once the file would grow past max_bytes (counted from its size
// when opened), recording stops with one WARN `record.limit_reached`; each
// exchange keeps at most kMaxExchangeBytes (or max_bytes if smaller) of
// response data, then marks itself truncated. A write error also
// stops it (WARN `record.write_failed`). Paths and contents are never
// logged beyond the file's path.
// Thread: the loop's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "worker/exchange_record.h"
#include "worker/record_redact.h"

namespace qp::worker {

class UpstreamRecorder {
 public:
  static constexpr uint64_t kMaxExchangeBytes = 16 * 1024 * 1024;

  UpstreamRecorder(std::string path, uint64_t max_bytes);
  ~UpstreamRecorder();
  UpstreamRecorder(const UpstreamRecorder&) = delete;
  UpstreamRecorder& operator=(const UpstreamRecorder&) = delete;

  // The path with "{account}" replaced.
  static std::string expand_path(std::string_view path, std::string_view account);

  Status open();
  bool active() const { return fd_ >= 0 && !stopped_; }
  // Known secrets to scrub (record_redact.h): call with every credential
  // set the worker uses (old ones stay known).
  void add_account(const AccountConfig& account) { redactor_.add_account(account); }

  // A record for a request about to start, or null when not recording.
  std::unique_ptr<record::ExchangeRecord> begin(std::string_view method, std::string_view url,
                                                const std::vector<std::string>& headers,
                                                std::string_view body);
  // Writes a finished line (one write(2)), unless past the limit.
  void write(const std::string& line);

  uint64_t written_bytes() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void stop(const char* event, std::string_view detail);

  std::string path_;
  uint64_t max_bytes_;
  int fd_ = -1;
  uint64_t size_ = 0;  // the file's size: at open, plus what we wrote
  bool stopped_ = false;
  record::Redactor redactor_;
};

}  // namespace qp::worker
