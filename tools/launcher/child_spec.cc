#include "tools/launcher/child_spec.h"

namespace qp::launcher {

std::vector<std::string> config_args(const LaunchOptions& options) {
  if (options.config_path.empty()) return {};
  return {"--config", options.config_path};
}

ChildSpec broker_spec(const LaunchOptions& options) {
  return ChildSpec{
      "broker", ChildKind::kBroker, std::string(kBrokerBinary), config_args(options), {}, {}};
}

ChildSpec frontend_spec(const LaunchOptions& options) {
  ChildSpec spec{
      "frontend", ChildKind::kFrontend, std::string(kFrontendBinary), config_args(options), {}, {}};
  if (options.listen_fd >= 0) {
    spec.args.emplace_back("--listen-fd");
    spec.args.emplace_back("3");
    spec.inherit_fds.push_back(options.listen_fd);
  }
  return spec;
}

ChildSpec worker_spec(const LaunchOptions& options, const std::string& account) {
  ChildSpec spec{"worker:" + account,
                 ChildKind::kWorker,
                 std::string(kWorkerBinary),
                 config_args(options),
                 {},
                 {}};
  spec.args.emplace_back("--account");
  spec.args.push_back(account);
  return spec;
}

ChildSpec mock_spec(std::string_view secret, int port) {
  return ChildSpec{"mock",
                   ChildKind::kMock,
                   std::string(kMockBinary),
                   // A visible pace, so `curl -N` in demo mode shows tokens streaming.
                   {"--port", std::to_string(port), "--jwt-secret", std::string(secret),
                    "--token-delay-ms", std::to_string(kDemoTokenDelayMs)},
                   {},
                   {}};
}

ChildSpec demo_worker_spec(const LaunchOptions& options, int mock_port, std::string_view jwt) {
  ChildSpec spec = worker_spec(options, std::string(kDemoAccount));
  spec.env = {
      {"QWEN_BASE_URL", mock_base_url(mock_port)},
      {"QWEN_COOKIES", "token=" + std::string(jwt)},
      {"QWEN_ACCOUNT", std::string(kDemoAccount)},
      // A real account's extra credentials must not leak into the demo one.
      {"QWEN_TOKEN", std::nullopt},
      {"QWEN_BX_UA", std::nullopt},
      {"QWEN_BX_V", std::nullopt},
  };
  return spec;
}

std::string mock_base_url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

LaunchPlan plan_launch(const Config& config, const LaunchOptions& options,
                       std::string_view mock_secret) {
  LaunchPlan plan;
  plan.demo = options.force_demo || config.accounts.empty();
  if (plan.demo) plan.children.push_back(mock_spec(mock_secret, 0));
  plan.children.push_back(broker_spec(options));
  if (!plan.demo) {
    for (const auto& account : config.accounts) {
      plan.children.push_back(worker_spec(options, account.name));
    }
  }
  plan.children.push_back(frontend_spec(options));
  return plan;
}

}  // namespace qp::launcher
