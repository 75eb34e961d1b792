// Options of one load-generator run (`qp-bench`), and the small parsers
// behind the command line (pure; main.cc wires them to CLI11).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::bench {

// Which API the target speaks.
//   kOpenAi: POST /v1/chat/completions (the gateway).
//   kQwen: the Qwen web API (mock-qwen directly): chats/new + completions.
enum class Api { kOpenAi, kQwen };

// Qwen only: where each completion's chat comes from.
//   kPerRequest: POST /api/v2/chats/new before every completion, on the same
//     connection: the same upstream work the gateway does per request today.
//   kPool: one chat per connection, created before the run; every completion
//     reuses it with parent_id null (what a pre-warmed chat pool would give).
enum class QwenChat { kPerRequest, kPool };

struct ProcGroup {
  std::string name;
  std::vector<pid_t> pids;
};

struct Target {
  std::string host;  // numeric address, "127.0.0.1" or "::1"
  int port = 0;
  std::string host_header;  // "127.0.0.1:8080"
};

struct LoadOptions {
  std::string url;
  Target target;
  Api api = Api::kOpenAi;
  bool stream = false;  // OpenAI stream flag; the Qwen path always streams (as the worker does)
  QwenChat qwen_chat = QwenChat::kPerRequest;
  std::string model = "qwen3-max";
  std::string prompt = "hi";
  std::string token;  // Qwen: the JWT; OpenAI: the gateway API key (optional)
  int connections = 16;
  double rate = 0;         // requests/s, open loop; 0 = closed loop
  double duration_s = 10;  // arrivals stop after this
  uint64_t requests = 0;   // 0 = bounded by duration only
  double warmup_s = 0;     // requests intended before t0+warmup are not measured
  double ramp_s = 0;       // closed loop: first requests spread over this
  double timeout_s = 120;  // per request
  double drain_s = 120;    // after arrivals stop, wait this long for in-flight requests
  int connect_parallel = 256;
  int sample_ms = 250;
  std::vector<ProcGroup> groups;
  std::string label;
  std::string output;  // empty or "-": stdout
};

// "http://HOST:PORT[/...]" with a numeric host or "localhost".
Result<Target> parse_url(std::string_view url);
// "name=pid[,pid...]".
Result<ProcGroup> parse_group(std::string_view spec);
// Cross-field checks (rate vs connections, limits).
Status validate(const LoadOptions& o);

std::string_view api_name(Api a);
std::string_view qwen_chat_name(QwenChat c);

}  // namespace qp::bench
