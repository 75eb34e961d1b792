// qp-worker: serves one Qwen account for the broker.
//
//   qp-worker [--config FILE] [--account NAME]
//
// The account is --account, or the only configured one. Its credentials are
// read with accounts::load_account(): a bad, expired or missing account file
// does not stop the worker, which registers with health credentials_invalid
// (and the reason) until the file is fixed. SIGHUP, or a change of the
// account file, reloads the credentials without dropping streams in flight.
// SIGTERM or SIGINT drains: no new chats, those in flight finish (up to
// Worker::kDrainGraceMs), then the worker leaves; a second signal stops it
// at once.
// Exit codes: 0 after a clean SIGINT/SIGTERM shutdown, 1 on a runtime
// failure, 2 on a usage or configuration error.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <uv.h>
#include <zmq.hpp>

#include "common/accounts/account_loader.h"
#include "common/config.h"
#include "common/log.h"
#include "common/process.h"
#include "common/uv/handle.h"
#include "common/uv/process_signals.h"
#include "worker/worker.h"

namespace {

int run(const qp::Config& config, qp::accounts::LoadedAccount account) {
  uv_loop_t loop;
  if (int r = uv_loop_init(&loop); r != 0) {
    QP_ERROR("worker.loop_init_failed").kv("error", uv_strerror(r));
    return 1;
  }
  int rc = 0;
  {
    zmq::context_t ctx(1);
    qp::worker::Worker worker(&loop, ctx, config, std::move(account));
    // SIGHUP reloads the credentials; SIGINT/SIGTERM drain (jobs in flight
    // finish; a second signal stops at once). The worker pings systemd's
    // watchdog itself, from its loop-health check.
    qp::uv::ProcessSignals signals(
        &loop,
        {.on_stop =
             [&](int signum) {
               QP_INFO("worker.signal").kv("signal", qp::uv::ProcessSignals::name(signum));
               worker.drain();
             },
         .on_reload =
             [&] {
               QP_INFO("worker.signal").kv("signal", "SIGHUP").kv("action", "reload credentials");
               worker.reload("sighup");
             },
         .watchdog = false});
    signals.start();

    qp::Status st = worker.start();
    if (!st.ok()) {
      QP_ERROR("worker.start_failed").kv("error", st.message());
      worker.shutdown();
      rc = 1;
    } else {
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  if (int r = qp::uv::close_loop(&loop); r != 0) {
    QP_WARN("worker.loop_close").kv("error", uv_strerror(r));
  }
  QP_INFO("worker.exit").kv("code", rc);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"qp-worker: serves one Qwen account for the qwenproxy broker"};
  std::string config_path;
  std::string account_name;
  app.add_option("--config", config_path, "TOML config file (default: $QP_CONFIG, else none)");
  app.add_option("--account", account_name,
                 "account to serve (default: the only configured account)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  // SIGHUP means "reload the credentials" (handled once the loop runs); one
  // that arrives while starting must not kill the process.
  std::signal(SIGHUP, SIG_IGN);
  int exit_code = 0;
  auto config = qp::process::start("worker", config_path, {.uses_state_dir = true}, &exit_code);
  if (!config) return exit_code;
  if (!account_name.empty()) {
    // An account that is not configured is still served when the accounts
    // directory can hold its file (systemd's qwenproxy-worker@NAME).
    if (!qp::accounts::valid_account_name(account_name) ||
        (config->find_account(account_name) == nullptr && config->accounts_dir.empty())) {
      std::fprintf(stderr, "qp-worker: unknown account '%s' (configured: %zu account(s))\n",
                   account_name.c_str(), config->accounts.size());
      return qp::process::kExitConfig;
    }
  } else if (config->accounts.size() == 1) {
    account_name = config->accounts.front().name;
  } else if (config->accounts.empty()) {
    std::fprintf(stderr,
                 "qp-worker: no account configured (add [[accounts]] to the config file or set "
                 "QWEN_COOKIES)\n");
    return qp::process::kExitConfig;
  } else {
    std::fprintf(stderr, "qp-worker: %zu accounts configured; choose one with --account NAME\n",
                 config->accounts.size());
    return qp::process::kExitConfig;
  }

  if (CURLcode c = curl_global_init(CURL_GLOBAL_DEFAULT); c != CURLE_OK) {
    std::fprintf(stderr, "qp-worker: curl_global_init failed: %s\n", curl_easy_strerror(c));
    return qp::process::kExitFailure;
  }
  int rc = 1;
  try {
    qp::accounts::LoadedAccount account = qp::accounts::load_account(*config, account_name);
    QP_INFO("worker.start")
        .kv("account", account_name)
        .kv("credentials", account.source)
        .kv("broker", config->broker.worker_endpoint)
        .kv("upstream", config->upstream.base_url);
    // Unusable credentials are not fatal: the worker runs, logs
    // account.unusable and reports the account as credentials_invalid.
    rc = run(config.value(), std::move(account));
  } catch (const std::exception& e) {
    QP_ERROR("worker.fatal").kv("error", e.what());
    rc = 1;
  }
  curl_global_cleanup();
  return rc;
}
