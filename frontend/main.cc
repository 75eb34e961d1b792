// qp-frontend: the OpenAI-compatible HTTP front process.
#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>
#include <uv.h>

#include "common/config.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/process.h"
#include "common/uv/handle.h"
#include "common/uv/process_signals.h"
#include "frontend/frontend_app.h"

namespace {
constexpr uint64_t kDrainMs = 10'000;
}

int main(int argc, char** argv) {
  CLI::App cli{"qwenproxy frontend: OpenAI-compatible HTTP API"};
  std::string config_path;
  int listen_fd = -1;
  cli.add_option("-c,--config", config_path, "TOML configuration file (default: $QP_CONFIG)");
  cli.add_option("--listen-fd", listen_fd,
                 "use this inherited listening socket (the launcher passes 3) instead of binding");
  int index = -1;
  cli.add_option("--index", index,
                 "which of several frontend processes on one socket this is (0, 1, …): its name "
                 "towards the broker, in logs (frontend=K) and in /metrics")
      ->check(CLI::Range(0, static_cast<int>(qp::kMaxFrontendProcesses) - 1));
  CLI11_PARSE(cli, argc, argv);

  // SIGHUP means "reload the keys file" (handled once the loop runs); one
  // that arrives while starting must not kill the process.
  std::signal(SIGHUP, SIG_IGN);
  int exit_code = 0;
  auto config = qp::process::start("frontend", config_path, {.uses_state_dir = true}, &exit_code);
  if (!config) return exit_code;
  if (index >= 0) qp::log::set_process_tag("frontend", std::to_string(index));
  // systemd socket activation: adopt the first passed socket.
  if (listen_fd < 0 && sd_listen_fds(1) >= 1) listen_fd = SD_LISTEN_FDS_START;
  if (index > 0 && listen_fd < 0) {
    // Process K > 0 shares process 0's socket; a port of its own would be a
    // second, different listener (or fail to bind).
    std::fprintf(stderr,
                 "qp-frontend: --index %d needs the shared listening socket (--listen-fd, or "
                 "systemd's qwenproxy-frontend.socket)\n",
                 index);
    return qp::process::kExitConfig;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    qp::frontend::FrontendApp app(&loop, std::move(config.value()));
    app.set_process_index(index);
    if (qp::Status s = app.start(listen_fd); !s.ok()) {
      QP_ERROR("frontend.start_failed").kv("error", s.message());
      std::fprintf(stderr, "qp-frontend: %s\n", s.message().c_str());
      exit_code = qp::process::kExitFailure;
    } else {
      QP_INFO("frontend.listening").kv("port", app.port());
      qp::notify::ready("listening on port " + std::to_string(app.port()), app.port());

      // SIGINT/SIGTERM drain (connections finish, up to kDrainMs); SIGHUP
      // reloads the client keys.
      qp::uv::ProcessSignals signals(
          &loop,
          {.on_stop =
               [&](int signum) {
                 QP_INFO("frontend.signal").kv("signal", qp::uv::ProcessSignals::name(signum));
                 qp::notify::stopping();
                 app.shutdown(kDrainMs);
                 signals.close();
               },
           .on_reload =
               [&] {
                 QP_INFO("frontend.signal").kv("signal", "SIGHUP").kv("action", "reload keys");
                 app.reload_keys("sighup");
               },
           .watchdog = true});
      signals.start();
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }  // a failed start too: the app's handles are closed and the loop freed
  if (qp::uv::close_loop(&loop) != 0) {
    QP_WARN("frontend.loop_not_empty");
  }
  QP_INFO("frontend.exit");
  return exit_code;
}
