// qp-broker: routes jobs from frontends to workers. See broker/broker.h.
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "broker/service.h"
#include "common/log.h"
#include "common/process.h"

int main(int argc, char** argv) {
  CLI::App app{"qwenproxy broker: routes jobs from frontends to workers"};
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML configuration file (default: $QP_CONFIG)");
  app.set_version_flag("--version", "qp-broker 0.1.0");
  CLI11_PARSE(app, argc, argv);

  int exit_code = 0;
  auto config = qp::process::start("broker", config_path, {.uses_state_dir = true}, &exit_code);
  if (!config) return exit_code;
  try {
    return qp::broker::run_service(*config);
  } catch (const std::exception& e) {
    QP_ERROR("broker.fatal").kv("error", e.what());
    return qp::process::kExitFailure;
  }
}
