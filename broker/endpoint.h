// Filesystem preparation for the endpoints the broker binds.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::broker {

// "ipc:///run/qwenproxy/broker.sock" -> "/run/qwenproxy/broker.sock";
// empty for other transports.
std::string ipc_path(std::string_view endpoint);

// For an ipc:// endpoint, creates the socket's directory and any missing
// parents with mode 0700 (existing directories are left as they are). Other
// transports: nothing to do.
Status ensure_ipc_directory(std::string_view endpoint);

}  // namespace qp::broker
