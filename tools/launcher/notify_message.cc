#include "tools/launcher/notify_message.h"

namespace qp::launcher {
namespace {

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool parse_port(std::string_view v, int* out) {
  if (v.empty() || v.size() > 5) return false;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > 65535) return false;
  *out = n;
  return true;
}

Status bad(const char* what) {
  return error(Code::kProtocol, std::string("notify message: ") + what);
}

}  // namespace

Result<NotifyMessage> parse_notify_message(std::string_view datagram) {
  if (datagram.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  NotifyMessage msg;
  bool any = false;
  size_t pos = 0;
  while (pos < datagram.size()) {
    size_t end = datagram.find('\n', pos);
    if (end == std::string_view::npos) end = datagram.size();
    std::string_view line = datagram.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;  // trailing or doubled newline
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return bad("line is not KEY=VALUE");
    std::string_view key = line.substr(0, eq);
    for (char c : key) {
      if (!is_key_char(c)) return bad("bad character in key");
    }
    std::string_view value = line.substr(eq + 1);
    any = true;
    if (key == "READY") {
      msg.ready = msg.ready || value == "1";
    } else if (key == "STOPPING") {
      msg.stopping = msg.stopping || value == "1";
    } else if (key == "WATCHDOG") {
      msg.watchdog = msg.watchdog || value == "1";
    } else if (key == "STATUS") {
      msg.status = std::string(value);
    } else if (key == "QP_PORT") {
      if (!parse_port(value, &msg.port)) return bad("QP_PORT must be 1..65535");
    }
  }
  if (!any) return bad("empty");
  return msg;
}

}  // namespace qp::launcher
