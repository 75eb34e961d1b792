// Parser for sd_notify datagrams (`KEY=VALUE` lines separated by '\n'), as
// sent by our children through qp::notify (common/notify.h) or by any
// sd_notify(3) client.
//
// Known keys: READY=1, STOPPING=1, WATCHDOG=1, STATUS=<text>, QP_PORT=<port>
// (our extension: the TCP port a frontend or mock listens on). Unknown keys
// (MAINPID, ERRNO, …) are ignored, as systemd does. A message with a line
// that is not KEY=VALUE, a NUL byte, or a QP_PORT that is not 1..65535 is
// rejected as a whole: a sender that garbles one line may garble the rest.
//
// Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::launcher {

struct NotifyMessage {
  bool ready = false;                 // READY=1
  bool stopping = false;              // STOPPING=1
  bool watchdog = false;              // WATCHDOG=1
  std::optional<std::string> status;  // STATUS=…
  int port = 0;                       // QP_PORT=…, 0 if absent
};

Result<NotifyMessage> parse_notify_message(std::string_view datagram);

}  // namespace qp::launcher
