#include "tools/launcher/child_spec.h"

#include <algorithm>
#include <vector>

namespace qp::launcher {
namespace {

template <size_t N>
void unset_all(const std::string_view (&names)[N], std::vector<EnvVar>* env) {
  for (auto name : names) env->push_back({std::string(name), std::nullopt});
}

}  // namespace

std::vector<std::string> config_args(const LaunchOptions& options) {
  if (options.config_path.empty()) return {};
  return {"--config", options.config_path};
}

ChildSpec broker_spec(const LaunchOptions& options) {
  ChildSpec spec{"broker", ChildKind::kBroker, std::string(kBrokerBinary), config_args(options), {},
                 {}};
  unset_all(kAccountSecretEnv, &spec.env);
  unset_all(kClientSecretEnv, &spec.env);
  return spec;
}

std::string frontend_name(uint64_t index, uint64_t processes) {
  if (processes <= 1) return "frontend";
  return "frontend:" + std::to_string(index);
}

ChildSpec frontend_spec(const LaunchOptions& options, uint64_t index, uint64_t processes) {
  ChildSpec spec{frontend_name(index, processes),
                 ChildKind::kFrontend,
                 std::string(kFrontendBinary),
                 config_args(options),
                 {},
                 {}};
  unset_all(kAccountSecretEnv, &spec.env);
  if (processes > 1) {
    spec.args.emplace_back("--index");
    spec.args.push_back(std::to_string(index));
  }
  if (options.listen_fd >= 0) {
    spec.args.emplace_back("--listen-fd");
    spec.args.emplace_back("3");
    spec.inherit_fds.push_back(options.listen_fd);
  }
  return spec;
}

ChildSpec worker_spec(const LaunchOptions& options, const std::string& account, bool env_account) {
  ChildSpec spec{"worker:" + account,
                 ChildKind::kWorker,
                 std::string(kWorkerBinary),
                 config_args(options),
                 {},
                 {}};
  spec.args.emplace_back("--account");
  spec.args.push_back(account);
  if (!env_account) unset_all(kAccountSecretEnv, &spec.env);
  unset_all(kClientSecretEnv, &spec.env);
  return spec;
}

ChildSpec mock_spec(std::string_view secret, int port) {
  ChildSpec spec{"mock",
                 ChildKind::kMock,
                 std::string(kMockBinary),
                 // A visible pace, so `curl -N` in demo mode shows tokens streaming.
                 {"--port", std::to_string(port), "--jwt-secret", std::string(secret),
                  "--token-delay-ms", std::to_string(kDemoTokenDelayMs)},
                 {},
                 {}};
  unset_all(kAccountSecretEnv, &spec.env);
  unset_all(kClientSecretEnv, &spec.env);
  return spec;
}

ChildSpec demo_worker_spec(const LaunchOptions& options, int mock_port, std::string_view jwt) {
  // Every account variable unset (a real account's credentials must not
  // leak into the demo one), then the demo account's own.
  ChildSpec spec = worker_spec(options, std::string(kDemoAccount));
  std::erase_if(spec.env, [](const EnvVar& e) { return e.name == "QWEN_COOKIES"; });
  spec.env.push_back({"QWEN_BASE_URL", mock_base_url(mock_port)});
  spec.env.push_back({"QWEN_COOKIES", "token=" + std::string(jwt)});
  spec.env.push_back({"QWEN_ACCOUNT", std::string(kDemoAccount)});
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
      plan.children.push_back(worker_spec(options, account.name, account.from_environment));
    }
  }
  const uint64_t n = std::max<uint64_t>(config.frontend.processes, 1);
  for (uint64_t i = 0; i < n; ++i) plan.children.push_back(frontend_spec(options, i, n));
  return plan;
}

}  // namespace qp::launcher
