#include "tools/launcher/cli.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/process.h"
#include "tools/account/cli.h"
#include "tools/keys/commands.h"
#include "tools/keys/curve_keys.h"
#include "tools/launcher/launcher.h"

#ifndef QP_VERSION
#define QP_VERSION "unknown"
#endif

namespace qp::launcher {
namespace {

constexpr int kExitUsage = process::kExitConfig;

// A subcommand's work, run after parsing succeeded. Returns the exit code.
using Action = std::function<int()>;

void add_up_command(CLI::App& app, Action* action) {
  auto options = std::make_shared<UpOptions>();
  CLI::App* up =
      app.add_subcommand("up", "Start the broker, frontend and workers and keep them running");
  up->add_option("--config", options->config_path, "TOML config file (default: $QP_CONFIG)");
  up->add_option("--bin-dir", options->bin_dirs,
                 "Directory holding qp-broker, qp-frontend, qp-worker, mock-qwen (repeatable; "
                 "default: the directory of this executable)");
  up->add_flag("--demo", options->force_demo,
               "Answer from the built-in mock upstream even if accounts are configured");
  up->callback([action, options] { *action = [options] { return run_up(*options); }; });
}

// `qwenproxy record --out FILE`: `qwenproxy up` with upstream.record_file
// set for every worker through QP_UPSTREAM_RECORD_FILE (docs/recording.md).
void add_record_command(CLI::App& app, Action* action) {
  auto options = std::make_shared<UpOptions>();
  auto out = std::make_shared<std::string>();
  auto max_bytes = std::make_shared<uint64_t>(0);
  CLI::App* rec = app.add_subcommand(
      "record",
      "Start the stack like `up`, recording every upstream exchange (redacted) to a file");
  rec->add_option("--out", *out, "Recording file (JSON lines, created with mode 0600)")->required();
  rec->add_option("--max-bytes", *max_bytes,
                  "Stop recording past this file size (default: upstream.record_max_bytes)");
  rec->add_option("--config", options->config_path, "TOML config file (default: $QP_CONFIG)");
  rec->add_option("--bin-dir", options->bin_dirs,
                  "Directory holding qp-broker, qp-frontend, qp-worker, mock-qwen (repeatable)");
  rec->add_flag("--demo", options->force_demo, "Record against the built-in mock upstream");
  rec->callback([action, options, out, max_bytes] {
    *action = [options, out, max_bytes] {
      std::error_code ec;
      std::string path = std::filesystem::absolute(*out, ec).string();
      if (ec) path = *out;
      ::setenv("QP_UPSTREAM_RECORD_FILE", path.c_str(), 1);
      if (*max_bytes > 0) {
        ::setenv("QP_UPSTREAM_RECORD_MAX_BYTES", std::to_string(*max_bytes).c_str(), 1);
      }
      std::fprintf(stderr,
                   "qwenproxy: recording upstream exchanges to %s (secrets stripped; check it "
                   "before sharing: docs/recording.md)\n",
                   path.c_str());
      return run_up(*options);
    };
  });
}

void add_version_command(CLI::App& app, Action* action) {
  CLI::App* version = app.add_subcommand("version", "Print the version");
  version->callback([action] {
    *action = [] {
      std::printf("qwenproxy %s\n", QP_VERSION);
      return 0;
    };
  });
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"qwenproxy: OpenAI-compatible gateway to chat.qwen.ai", "qwenproxy"};
  app.require_subcommand(1);
  Action action;
  add_up_command(app, &action);
  add_record_command(app, &action);
  add_version_command(app, &action);
  account_tool::add_account_command(app, &action);
  keys_tool::add_keys_command(app, &action);
  keys_tool::add_curve_keys_command(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  return action ? action() : kExitUsage;
}

}  // namespace qp::launcher
