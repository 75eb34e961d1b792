// What every qwenproxy process (qp-broker, qp-frontend, qp-worker) does
// before its event loop, in one place, with one set of exit codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/config.h"

namespace qp::process {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // failed while running, or could not start its sockets
inline constexpr int kExitConfig = 2;   // bad command line or configuration: a restart won't help

struct StartOptions {
  // The process keeps files in the state directory (broker: sessions.db;
  // worker: renewed tokens), so it must be private too.
  bool uses_state_dir = false;
};

// Initialises logging as `name` ("broker", …), ignores SIGPIPE (a peer
// closing a socket is an error, not a kill), sets the umask to 077 (sockets
// and files it creates are private whoever started it), loads the
// configuration, and creates (0700) and checks the directories of its ipc://
// endpoints and, if asked, the state directory: a directory another user
// owns or can write is refused (fs::check_private_dir).
// On failure prints "qp-NAME: why" to stderr, logs NAME.config_error, sets
// *exit_code to kExitConfig and returns nothing.
std::optional<Config> start(std::string_view name, const std::string& config_path,
                            const StartOptions& options, int* exit_code);

}  // namespace qp::process
