// `qwenproxy up`: loads the config, decides which children to run
// (child_spec.h), and drives a Supervisor on a libuv loop until SIGINT or
// SIGTERM. Owns the launcher's stdout lines (output.h) and the demo-mode
// wiring: the demo worker is started once the mock reports its port. Once the
// frontend is ready it records its URL in {runtime_dir}/frontend.url (for
// `qwenproxy account status`) and removes it on shutdown.
#pragma once

#include <string>
#include <vector>

#include "common/process.h"

namespace qp::launcher {

struct UpOptions {
  std::string config_path;            // --config (empty: $QP_CONFIG or none)
  std::vector<std::string> bin_dirs;  // --bin-dir (empty: the executable's directory)
  bool force_demo = false;            // --demo
};

// Exit codes of `qwenproxy up`: those of every qwenproxy process.
inline constexpr int kExitOk = process::kExitOk;  // clean shutdown after SIGINT/SIGTERM
inline constexpr int kExitStartup =
    process::kExitConfig;  // bad config, missing binary, no runtime dir

// Runs until shut down; returns the process exit code. Start-up errors are
// printed to stderr as one "qwenproxy: …" line (never with secrets).
int run_up(const UpOptions& options);

}  // namespace qp::launcher
