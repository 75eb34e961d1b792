// The launcher's stdout lines. They are a contract: integration tests and
// users' scripts parse them, so change them only together with the docs.
//
//   qwenproxy: started NAME pid=PID
//   qwenproxy: NAME exited (code N) — restarting in N ms
//   qwenproxy: NAME exited (signal N) — restarting in N ms
//   qwenproxy: NAME exited (code N)                      (during shutdown)
//   qwenproxy: NAME failed to start (REASON) — restarting in N ms
//   qwenproxy: NAME missed its watchdog — killing pid=PID
//   qwenproxy: ready — OpenAI API at http://HOST:PORT/v1 (health: http://HOST:PORT/health)
//   qwenproxy: no Qwen account configured — DEMO MODE: …
//   qwenproxy: shutting down
//
// Pure string building; every line ends with '\n'.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tools/launcher/child_spec.h"

namespace qp::launcher {

std::string started_line(std::string_view name, int pid);
// `restart_in_ms` is empty when the child will not be restarted (shutdown).
std::string exited_line(std::string_view name, ExitInfo exit,
                        std::optional<uint64_t> restart_in_ms);
std::string spawn_failed_line(std::string_view name, std::string_view reason,
                              uint64_t restart_in_ms);
std::string watchdog_line(std::string_view name, int pid);
// `host` as configured; an IPv6 literal is bracketed, a wildcard address is
// shown as-is (the service listens on every interface).
std::string ready_line(std::string_view host, int port);
// `forced`: --demo was given although accounts may be configured.
std::string demo_line(int mock_port, bool forced);
std::string shutting_down_line();

// "http://HOST:PORT" with IPv6 brackets when needed.
std::string http_origin(std::string_view host, int port);

}  // namespace qp::launcher
