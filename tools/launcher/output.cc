#include "tools/launcher/output.h"

namespace qp::launcher {
namespace {

constexpr std::string_view kPrefix = "qwenproxy: ";
constexpr std::string_view kDash = " \u2014 ";  // em dash, as in the documented format

}  // namespace

std::string started_line(std::string_view name, int pid) {
  std::string s(kPrefix);
  s.append("started ").append(name).append(" pid=").append(std::to_string(pid)).push_back('\n');
  return s;
}

std::string exited_line(std::string_view name, ExitInfo exit,
                        std::optional<uint64_t> restart_in_ms) {
  std::string s(kPrefix);
  s.append(name).append(" exited (");
  if (exit.signal != 0) {
    s.append("signal ").append(std::to_string(exit.signal));
  } else {
    s.append("code ").append(std::to_string(exit.code));
  }
  s.push_back(')');
  if (restart_in_ms) {
    s.append(kDash).append("restarting in ").append(std::to_string(*restart_in_ms)).append(" ms");
  }
  s.push_back('\n');
  return s;
}

std::string spawn_failed_line(std::string_view name, std::string_view reason,
                              uint64_t restart_in_ms) {
  std::string s(kPrefix);
  s.append(name).append(" failed to start (").append(reason).push_back(')');
  s.append(kDash).append("restarting in ").append(std::to_string(restart_in_ms)).append(" ms\n");
  return s;
}

std::string watchdog_line(std::string_view name, int pid) {
  std::string s(kPrefix);
  s.append(name).append(" missed its watchdog").append(kDash).append("killing pid=");
  s.append(std::to_string(pid)).push_back('\n');
  return s;
}

std::string http_origin(std::string_view host, int port) {
  std::string s = "http://";
  bool v6 = host.find(':') != std::string_view::npos && host.front() != '[';
  if (v6) s.push_back('[');
  s.append(host);
  if (v6) s.push_back(']');
  s.push_back(':');
  s.append(std::to_string(port));
  return s;
}

std::string ready_line(std::string_view host, int port) {
  std::string origin = http_origin(host, port);
  std::string s(kPrefix);
  s.append("ready").append(kDash).append("OpenAI API at ").append(origin).append("/v1 (health: ");
  s.append(origin).append("/health)\n");
  return s;
}

std::string demo_line(int mock_port, bool forced) {
  std::string s(kPrefix);
  s.append(forced ? "--demo given" : "no Qwen account configured");
  s.append(kDash).append("DEMO MODE: answers come from the built-in mock upstream (mock-qwen) at ");
  s.append(mock_base_url(mock_port));
  s.append(", not from chat.qwen.ai.");
  if (!forced) s.append(" Add an account to use real Qwen (see README).");
  s.push_back('\n');
  return s;
}

std::string shutting_down_line() { return std::string(kPrefix) + "shutting down\n"; }

}  // namespace qp::launcher
