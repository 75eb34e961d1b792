// qp-bench: the load generator of the benchmark suite (docs/benchmarks.md).
//   qp-bench --url http://127.0.0.1:PORT --api openai|qwen [--stream]
//            [--connections N] [--rate R | closed loop] [--duration S]
//            [--requests N] [--warmup S] [--ramp S] [--sample name=pid,pid]...
// Prints one JSON object (see docs/benchmarks.md) to stdout or --output.
// tools/bench/run-suite.sh runs the standard scenarios with it.
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/bench/load_runner.h"
#include "tools/bench/options.h"
#include "tools/bench/requests.h"

namespace {

// 10,000 connections need more than the usual 1,024 descriptors.
void raise_fd_limit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using qp::bench::Api;
  using qp::bench::QwenChat;
  CLI::App app{"qp-bench: HTTP/SSE load generator for qwenproxy and mock-qwen"};
  qp::bench::LoadOptions o;
  std::string api = "openai";
  std::string qwen_chat = "per-request";
  int prompt_words = 0;
  std::vector<std::string> groups;
  app.add_option("--url", o.url, "Target, http://HOST:PORT")->required();
  app.add_option("--api", api, "openai (the gateway) or qwen (mock-qwen directly)")
      ->check(CLI::IsMember({"openai", "qwen"}))
      ->capture_default_str();
  app.add_flag("--stream", o.stream, "OpenAI: stream:true (the Qwen path always streams)");
  app.add_option("--qwen-chat", qwen_chat,
                 "Qwen: per-request (chats/new before each completion) or pool (one chat per "
                 "connection, created before the run)")
      ->check(CLI::IsMember({"per-request", "pool"}))
      ->capture_default_str();
  app.add_option("--model", o.model, "Model id")->capture_default_str();
  app.add_option("--prompt", o.prompt, "User message")->capture_default_str();
  app.add_option("--prompt-words", prompt_words,
                 "Use a prompt of N words instead (the mock echoes one token per word)");
  app.add_option("--token", o.token, "Qwen: JWT; OpenAI: the gateway API key (optional)");
  app.add_option("--connections,-c", o.connections, "Connections (max requests in flight)")
      ->capture_default_str();
  app.add_option("--rate,-r", o.rate, "Arrivals per second (open loop); 0 = closed loop")
      ->capture_default_str();
  app.add_option("--duration,-d", o.duration_s, "Seconds of arrivals (0 = until --requests)")
      ->capture_default_str();
  app.add_option("--requests,-n", o.requests, "Stop after this many requests (0 = no limit)")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "Seconds at the start not measured")
      ->capture_default_str();
  app.add_option("--ramp", o.ramp_s, "Closed loop: spread the first requests over S seconds")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "Seconds per request")->capture_default_str();
  app.add_option("--drain", o.drain_s, "Seconds to wait for in-flight requests at the end")
      ->capture_default_str();
  app.add_option("--connect-parallel", o.connect_parallel, "Connects in progress at once")
      ->capture_default_str();
  app.add_option("--sample", groups, "Process group to sample, name=pid[,pid...] (repeatable)");
  app.add_option("--sample-ms", o.sample_ms, "Sampling period")->capture_default_str();
  app.add_option("--label", o.label, "Free text copied to the output");
  app.add_option("--output,-o", o.output, "Output file (default: stdout)");
  CLI11_PARSE(app, argc, argv);

  o.api = api == "qwen" ? Api::kQwen : Api::kOpenAi;
  o.qwen_chat = qwen_chat == "pool" ? QwenChat::kPool : QwenChat::kPerRequest;
  if (prompt_words > 0) o.prompt = qp::bench::prompt_of_words(prompt_words);
  auto target = qp::bench::parse_url(o.url);
  if (!target) {
    std::fprintf(stderr, "qp-bench: %s\n", target.error().message().c_str());
    return 2;
  }
  o.target = *target;
  for (const std::string& g : groups) {
    auto parsed = qp::bench::parse_group(g);
    if (!parsed) {
      std::fprintf(stderr, "qp-bench: %s\n", parsed.error().message().c_str());
      return 2;
    }
    o.groups.push_back(*parsed);
  }
  if (qp::Status s = qp::bench::validate(o); !s.ok()) {
    std::fprintf(stderr, "qp-bench: %s\n", s.message().c_str());
    return 2;
  }
  raise_fd_limit();

  std::string output = o.output;
  qp::bench::LoadRunner runner(std::move(o));
  qp::Status s = runner.run();
  std::string json = runner.report();
  if (output.empty() || output == "-") {
    std::fwrite(json.data(), 1, json.size(), stdout);
  } else {
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    out << json;
    if (!out) {
      std::fprintf(stderr, "qp-bench: cannot write %s\n", output.c_str());
      return 1;
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "qp-bench: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
