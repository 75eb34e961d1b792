// Which processes `qwenproxy up` runs, with which arguments and environment:
// pure functions of the loaded Config and the command-line options.
//
// Child names are part of the launcher's output contract (tests parse them):
// "mock", "broker", "frontend" (or "frontend:K", K = 0..N-1, when
// frontend.processes N > 1), "worker:<account>".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"

namespace qp::launcher {

inline constexpr std::string_view kBrokerBinary = "qp-broker";
inline constexpr std::string_view kFrontendBinary = "qp-frontend";
inline constexpr std::string_view kWorkerBinary = "qp-worker";
inline constexpr std::string_view kMockBinary = "mock-qwen";
inline constexpr std::string_view kDemoAccount = "demo";
inline constexpr std::string_view kDemoUser = "demo-user";
inline constexpr int64_t kDemoJwtLifetimeS = 7 * 24 * 3600;
inline constexpr int kDemoTokenDelayMs = 30;

enum class ChildKind : uint8_t { kMock, kBroker, kFrontend, kWorker };

// One change to the inherited environment: set `name` to `value`, or remove
// it when `value` is empty (nullopt).
struct EnvVar {
  std::string name;
  std::optional<std::string> value;
};

// Variables that carry secrets. Each child gets only those it needs: the
// account variables reach only the worker of the account they define, the
// client API key only the frontend (plan_launch removes the rest).
inline constexpr std::string_view kAccountSecretEnv[] = {
    "QWEN_COOKIES", "QWEN_TOKEN", "QWEN_JWT",      "QWEN_BX_UA",
    "QWEN_BX_V",    "QWEN_EMAIL", "QWEN_PASSWORD", "QWEN_PROXY"};
inline constexpr std::string_view kClientSecretEnv[] = {"QP_API_KEY"};

struct ChildSpec {
  std::string name;  // "broker", "frontend"/"frontend:K", "worker:<account>", "mock"
  ChildKind kind = ChildKind::kBroker;
  std::string program;            // binary name from the plan; a path once resolved
  std::vector<std::string> args;  // without argv[0]
  std::vector<EnvVar> env;        // applied on top of the launcher's environment
  // Descriptors the child inherits as fd 3, 4, … (the frontend's listening
  // socket, owned by the launcher so its port survives frontend restarts).
  std::vector<int> inherit_fds;
};

// How a child ended (libuv exit callback): `signal` is non-zero when a signal
// killed it, else `code` is its exit status.
struct ExitInfo {
  int64_t code = 0;
  int signal = 0;
};

struct LaunchOptions {
  std::string config_path;  // --config; empty: children read $QP_CONFIG themselves
  bool force_demo = false;  // --demo
  int listen_fd = -1;       // frontend listening socket held by the launcher; -1 = none
};

struct LaunchPlan {
  bool demo = false;
  // Start order. In demo mode the worker is not here: it needs the mock's
  // port, so it is built with demo_worker_spec() once the mock is ready.
  std::vector<ChildSpec> children;
};

// Demo mode when no account is configured or when forced. `mock_secret` is
// the JWT secret handed to the mock (only used in demo mode).
LaunchPlan plan_launch(const Config& config, const LaunchOptions& options,
                       std::string_view mock_secret);

// `--config F` when a file was named on the command line, else nothing.
std::vector<std::string> config_args(const LaunchOptions& options);

ChildSpec broker_spec(const LaunchOptions& options);
// Frontend process `index` of `processes` (frontend.processes). They all
// inherit the one listening socket; each gets `--index K` (its identity
// towards the broker and in logs and metrics) when there are several.
ChildSpec frontend_spec(const LaunchOptions& options, uint64_t index = 0, uint64_t processes = 1);
// "frontend" when there is one process, else "frontend:K".
std::string frontend_name(uint64_t index, uint64_t processes);
// `env_account`: the account is the one the QWEN_* variables define, so its
// worker keeps them.
ChildSpec worker_spec(const LaunchOptions& options, const std::string& account,
                      bool env_account = false);
// `port` 0 lets the mock pick a free port.
ChildSpec mock_spec(std::string_view secret, int port);
// The demo worker: account "demo", upstream = the mock, cookie = `jwt`.
ChildSpec demo_worker_spec(const LaunchOptions& options, int mock_port, std::string_view jwt);

std::string mock_base_url(int port);

}  // namespace qp::launcher
