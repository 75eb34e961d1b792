// Small file-system and OS helpers for the launcher (I/O, thin wrappers).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::launcher {

// Directory of the running executable (/proc/self/exe).
Result<std::string> self_exe_dir();

// First `dir/name` that is an executable regular file. The error lists the
// directories searched and suggests --bin-dir.
Result<std::string> find_binary(const std::vector<std::string>& dirs, std::string_view name);

// `bytes` random bytes from the kernel, hex-encoded (2 * bytes characters).
Result<std::string> random_hex(size_t bytes);

// A listening TCP socket on host:port (IP literal; port 0 = any free port),
// close-on-exec. On a conflict the message names the address and port, and
// the holder when /proc tells ("pid 1234 (nginx)"); it never kills it.
// *bound_port receives the real port.
Result<int> listen_tcp(const std::string& host, int port, int* bound_port);

// Absolute form of `path` (relative to the current directory); `path` itself
// if the current directory cannot be read.
std::string absolute_path(const std::string& path);

}  // namespace qp::launcher
