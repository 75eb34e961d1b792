#include "tools/bench/options.h"

#include <charconv>

namespace qp::bench {
namespace {

bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Result<Target> parse_url(std::string_view url) {
  static constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status(Code::kInvalidArgument, "url must start with http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  Target t;
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Status(Code::kInvalidArgument, "bad IPv6 host");
    host = rest.substr(1, close - 1);
    if (rest.substr(close + 1, 1) != ":") return Status(Code::kInvalidArgument, "url needs a port");
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return Status(Code::kInvalidArgument, "url needs a port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  int64_t p = 0;
  if (!parse_int(port, &p) || p <= 0 || p > 65535) {
    return Status(Code::kInvalidArgument, "bad port in url");
  }
  t.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  if (t.host.empty()) return Status(Code::kInvalidArgument, "url needs a host");
  t.port = static_cast<int>(p);
  t.host_header = std::string(rest);
  return t;
}

Result<ProcGroup> parse_group(std::string_view spec) {
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status(Code::kInvalidArgument, "process group must be name=pid[,pid...]");
  }
  ProcGroup g;
  g.name = std::string(spec.substr(0, eq));
  std::string_view pids = spec.substr(eq + 1);
  while (!pids.empty()) {
    size_t comma = pids.find(',');
    std::string_view one = pids.substr(0, comma);
    int64_t pid = 0;
    if (!parse_int(one, &pid) || pid <= 0) {
      return Status(Code::kInvalidArgument, "bad pid in process group " + g.name);
    }
    g.pids.push_back(static_cast<pid_t>(pid));
    if (comma == std::string_view::npos) break;
    pids.remove_prefix(comma + 1);
  }
  if (g.pids.empty())
    return Status(Code::kInvalidArgument, "process group " + g.name + " has no pid");
  return g;
}

Status validate(const LoadOptions& o) {
  if (o.connections < 1) return Status(Code::kInvalidArgument, "--connections must be at least 1");
  if (o.rate < 0) return Status(Code::kInvalidArgument, "--rate must be >= 0");
  if (o.duration_s <= 0 && o.requests == 0) {
    return Status(Code::kInvalidArgument, "give --duration or --requests");
  }
  if (o.warmup_s < 0 || o.ramp_s < 0 || o.timeout_s <= 0 || o.drain_s < 0) {
    return Status(Code::kInvalidArgument, "times must be positive");
  }
  if (o.api == Api::kQwen && o.token.empty()) {
    return Status(Code::kInvalidArgument, "--api qwen needs --token (a JWT the mock accepts)");
  }
  if (o.connect_parallel < 1 || o.sample_ms < 10) {
    return Status(Code::kInvalidArgument, "--connect-parallel >= 1 and --sample-ms >= 10");
  }
  return Status();
}

std::string_view api_name(Api a) { return a == Api::kOpenAi ? "openai" : "qwen"; }
std::string_view qwen_chat_name(QwenChat c) {
  return c == QwenChat::kPerRequest ? "per-request" : "pool";
}

}  // namespace qp::bench
