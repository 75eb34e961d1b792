#include "common/notify.h"

#include <systemd/sd-daemon.h>

namespace qp::notify {

void ready(const std::string& status_text, int port) {
  std::string msg = "READY=1\nSTATUS=" + status_text;
  if (port > 0) msg += "\nQP_PORT=" + std::to_string(port);
  sd_notify(0, msg.c_str());
}

void status(const std::string& text) { sd_notify(0, ("STATUS=" + text).c_str()); }

void stopping() { sd_notify(0, "STOPPING=1"); }

void watchdog() { sd_notify(0, "WATCHDOG=1"); }

uint64_t watchdog_interval_ms() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return usec / 1000;
  return 0;
}

}  // namespace qp::notify
