// Who holds a TCP port: for the error message when the frontend port is
// taken (the old proxy killed the holder; we only name it). Linux /proc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qp::launcher {

// Socket inodes of the sockets in LISTEN state on local port `port`, from the
// text of /proc/net/tcp or /proc/net/tcp6. Pure; malformed lines are skipped.
std::vector<uint64_t> listening_inodes(std::string_view proc_net_tcp, int port);

// "pid 1234 (nginx)" for the first process we can see holding a listening
// socket on `port`, or "" when /proc does not tell (another user's process
// without privileges, another network namespace, …). Scans /proc.
std::string describe_port_holder(int port);

}  // namespace qp::launcher
