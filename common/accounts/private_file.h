// Reads files that hold secrets (account files, .env files) and writes them
// back atomically. A secret file must be a regular file that no other user
// can read or write: group and other permission bits must all be clear.
//
// Error messages name the path and say how to fix the problem; they never
// contain any of the file's content.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::accounts {

// Largest account or .env file we read; anything bigger is not a credentials file.
inline constexpr uint64_t kMaxSecretFileBytes = 1024 * 1024;

// The problem with permission bits `mode` for a secret file at `path`, or OK.
// Pure: "PATH can be read or written by other users (mode 0644): run `chmod
// 600 PATH`".
Status check_private_mode(const std::string& path, mode_t mode);

// Reads `path` after checking that it is a regular file, private
// (check_private_mode) and at most `max_bytes` long. The permission check is
// made on the open descriptor, so a file swapped in between cannot escape it.
Result<std::string> read_private_file(const std::string& path,
                                      uint64_t max_bytes = kMaxSecretFileBytes);

struct WriteOptions {
  bool replace = false;  // overwrite an existing file (else kInvalidArgument if it exists)
  // When running as root, give the file to this owner (-1: keep root). Used
  // so that a file written by `sudo qwenproxy account import` is readable by
  // the service user who owns the directory.
  int64_t owner_uid = -1;
  int64_t owner_gid = -1;
};

// The name write_private_file's temporary file starts with (then six random
// characters): hidden and not *.toml, so never taken for an account, and
// recognisable by a directory watcher as "a write whose rename is to come"
// (accounts::writes_in_progress, account_sync.h).
inline constexpr std::string_view kPrivateTempPrefix = ".qwenproxy-";

// Writes `content` to `path` with mode 0600: into a temporary file in the same
// directory (kPrivateTempPrefix), fsync, then rename over `path` (readers see
// the old or the new file, never half of one). The directory must exist.
Status write_private_file(const std::string& path, const std::string& content,
                          const WriteOptions& options);

}  // namespace qp::accounts
