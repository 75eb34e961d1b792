// Directories the service creates and trusts: mkdir -p, and the ownership
// check that keeps another local user from preparing them (as ssh and tmux
// refuse a socket directory that someone else could have written).
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace qp::fs {

// "/a/b/c" -> "/a/b"; "c" -> "."; "/c" -> "/".
std::string dir_of(const std::string& path);

// mkdir -p. Missing directories are created with `parent_mode`, the last one
// with `leaf_mode` (both before the umask); existing ones are left as they
// are. An existing non-directory is an error.
Status make_dirs(const std::string& path, mode_t leaf_mode = 0700, mode_t parent_mode = 0700);

// A directory the service keeps private (its runtime directory with the ipc
// sockets, its state directory) must be a real directory (not a symbolic
// link), owned by the effective user, and not writable by group or others.
// Otherwise the error names the directory, what is wrong and the fix.
Status check_private_dir(const std::string& path);

// make_dirs(path) with 0700, then check_private_dir(path).
Status ensure_private_dir(const std::string& path);

// For an ipc:// endpoint, ensure_private_dir() of the socket's directory
// ("ipc://@name", an abstract socket, has none). Other transports: nothing.
Status ensure_ipc_directory(const std::string& endpoint);

}  // namespace qp::fs
