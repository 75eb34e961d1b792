// Service-manager notifications (sd_notify protocol). Under systemd
// (Type=notify) these reach systemd; under `qwenproxy up` they reach the
// launcher, which sets NOTIFY_SOCKET for its children. Without
// NOTIFY_SOCKET every call is a no-op.
//
// Messages we send: READY=1, STATUS=<text>, STOPPING=1, WATCHDOG=1, and the
// extension QP_PORT=<port> (frontend, mock) that the launcher reads.
#pragma once

#include <cstdint>
#include <string>

namespace qp::notify {

void ready(const std::string& status, int port = 0);
void status(const std::string& text);
void stopping();
void watchdog();
// Watchdog interval requested by the manager (WATCHDOG_USEC), in ms; 0 if none.
// Processes ping at half this interval.
uint64_t watchdog_interval_ms();

}  // namespace qp::notify
