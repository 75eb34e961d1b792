#include "tools/launcher/launcher.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <set>

#include "common/accounts/account_loader.h"
#include "common/accounts/account_sync.h"
#include "common/accounts/private_file.h"
#include "common/config.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/uv/handle.h"
#include "common/uv/process_signals.h"
#include "tools/account/commands.h"
#include "tools/launcher/child_spec.h"
#include "tools/launcher/dir_watch.h"
#include "tools/launcher/output.h"
#include "tools/launcher/supervisor.h"
#include "tools/launcher/system.h"
#include "tools/mock-qwen/jwt.h"

namespace qp::launcher {
namespace {

void emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "qwenproxy: %s\n", message.c_str());
  return kExitStartup;
}

// Everything run_up() resolved before the loop starts.
struct Prepared {
  Config config;
  LaunchOptions launch;
  LaunchPlan plan;
  std::string worker_program;  // resolved qp-worker (for the demo worker)
  std::string mock_program;    // resolved mock-qwen (demo mode only)
  std::string mock_secret;
  std::string demo_jwt;  // never printed
  std::string notify_path;
};

// The Supervisor's observer: prints the documented lines and wires demo mode.
// Lives on the loop thread for the whole run.
class Launcher final : public Supervisor::Observer {
 public:
  Launcher(uv_loop_t* loop, Prepared prepared)
      : loop_(loop),
        p_(std::move(prepared)),
        supervisor_(loop, Supervisor::Options{p_.notify_path, {}, 20'000, 10'000}, this),
        signals_(loop, {.on_stop = [this](int signum) { handle_signal(signum); },
                        .on_reload = [this] { handle_signal(SIGHUP); },
                        .watchdog = true}),
        accounts_watch_(loop, [this] { sync_accounts(); }) {}

  Status start() {
    Status s = supervisor_.open();
    if (!s.ok()) return s;
    signals_.start();  // and systemd's watchdog, when WatchdogSec= is set
    for (auto& spec : p_.plan.children) supervisor_.add(spec);
    watch_accounts();
    return Status();
  }

  // Supervisor::Observer
  void on_started(const ChildSpec& spec, int pid) override {
    if (spec.kind == ChildKind::kMock) mock_ready_since_start_ = false;
    emit(started_line(spec.name, pid));
  }

  void on_exited(const ChildSpec& spec, ExitInfo exit,
                 std::optional<uint64_t> restart_in_ms) override {
    emit(exited_line(spec.name, exit, restart_in_ms));
    if (spec.kind == ChildKind::kMock && !mock_ready_since_start_ && mock_port_ != 0) {
      // It died before listening: maybe its fixed port is taken now. Let the
      // next start pick any port; the demo worker follows when it reports.
      supervisor_.update(mock(0));
    }
  }

  void on_spawn_failed(const ChildSpec& spec, const Status& why, uint64_t restart_in_ms) override {
    emit(spawn_failed_line(spec.name, why.message(), restart_in_ms));
  }

  void on_notify(const ChildSpec& spec, const NotifyMessage& msg) override {
    if (msg.status) QP_DEBUG("child_status").kv("child", spec.name).kv("status", *msg.status);
    if (!msg.ready) return;
    QP_INFO("child_ready").kv("child", spec.name).kv("port", msg.port);
    if (spec.kind == ChildKind::kMock) {
      on_mock_ready(msg.port);
    } else if (spec.kind == ChildKind::kFrontend) {
      int port = msg.port > 0 ? msg.port : p_.config.frontend.port;
      record_url(port);  // before the ready line, so whoever reads that line finds the file
      emit(ready_line(p_.config.frontend.host, port));
      if (!told_manager_) {  // our own service manager, if any (NOTIFY_SOCKET of the launcher)
        notify::ready("ready", port);
        told_manager_ = true;
      }
    }
  }

  void on_watchdog_timeout(const ChildSpec& spec, int pid) override {
    emit(watchdog_line(spec.name, pid));
  }

  void on_stopped() override {
    if (!url_file_.empty()) ::unlink(url_file_.c_str());
    signals_.close();
    accounts_watch_.stop();
    supervisor_.close();  // the loop has nothing left and uv_run returns
  }

 private:
  // The accounts directory: a NAME.toml that appears starts worker NAME, one
  // that goes away (removed, renamed to NAME.toml.removed-…) stops it with
  // SIGTERM (the worker drains). Policy: common/accounts/account_sync.h.
  void watch_accounts() {
    const std::string& dir = p_.config.accounts_dir;
    if (dir.empty() || p_.launch.force_demo) return;  // --demo: the demo account only
    if (!p_.plan.demo) {
      for (auto& name : accounts::directory_accounts(p_.config)) dir_workers_.insert(name);
    }
    pinned_ = accounts::pinned_accounts(p_.config);
    if (p_.plan.demo) pinned_.emplace_back(kDemoAccount);  // the demo worker's name is taken
    accounts_watch_.start(dir);
    QP_INFO("launcher.accounts_watch").kv("dir", dir);
  }

  void sync_accounts() {
    if (supervisor_.stopping()) return;
    const std::string& dir = p_.config.accounts_dir;
    Status status;
    std::vector<std::string> present = accounts::account_files_present(dir, &status);
    if (!status.ok()) {  // unreadable (not missing): keep what runs
      QP_WARN("launcher.accounts_dir_unreadable").kv("error", status.message());
      return;
    }
    std::vector<std::string> running(dir_workers_.begin(), dir_workers_.end());
    accounts::AccountSyncPlan plan = accounts::plan_account_sync(present, running, pinned_);
    for (const auto& name : plan.start) {
      QP_INFO("launcher.account_added").kv("name", name);
      ChildSpec spec = worker_spec(p_.launch, name);
      spec.program = p_.worker_program;
      dir_workers_.insert(name);
      supervisor_.add(std::move(spec));
    }
    for (const auto& name : plan.stop) {
      QP_INFO("launcher.account_removed").kv("name", name);
      dir_workers_.erase(name);
      supervisor_.remove("worker:" + name);
    }
  }

  // For `qwenproxy account status`: where this run's API is.
  void record_url(int port) {
    std::string path = p_.config.runtime_dir + "/" + std::string(account_tool::kFrontendUrlFile);
    accounts::WriteOptions replace;
    replace.replace = true;
    Status s = accounts::write_private_file(path, http_origin(p_.config.frontend.host, port) + "\n",
                                            replace);
    if (s.ok()) {
      url_file_ = path;
    } else {
      QP_WARN("frontend_url_not_recorded").kv("error", s.message());
    }
  }

  void on_mock_ready(int port) {
    if (port <= 0) {
      QP_ERROR("mock_ready_without_port").kv("hint", "mock-qwen must send QP_PORT with READY=1");
      return;
    }
    mock_ready_since_start_ = true;
    if (mock_port_ == 0) {
      mock_port_ = port;
      emit(demo_line(port, p_.launch.force_demo));
      // Keep the port across mock restarts so the URL above stays right.
      supervisor_.update(mock(port));
      supervisor_.add(demo_worker());
    } else if (port != mock_port_) {
      mock_port_ = port;
      supervisor_.update(mock(port));
      supervisor_.update(demo_worker());
      supervisor_.restart(demo_worker().name);
    }
  }

  // Specs built after start-up need the resolved program path, like the plan's.
  ChildSpec mock(int port) const {
    ChildSpec spec = mock_spec(p_.mock_secret, port);
    spec.program = p_.mock_program;
    return spec;
  }

  ChildSpec demo_worker() const {
    ChildSpec spec = demo_worker_spec(p_.launch, mock_port_, p_.demo_jwt);
    spec.program = p_.worker_program;
    return spec;
  }

  void handle_signal(int signum) {
    if (signum == SIGHUP) {
      QP_INFO("sighup_forwarded").kv("to", "workers");
      supervisor_.signal_kind(ChildKind::kWorker, SIGHUP);
      return;
    }
    if (!supervisor_.stopping()) {
      emit(shutting_down_line());
      notify::stopping();
      supervisor_.stop();
    } else if (signum == SIGINT) {
      QP_WARN("forced_shutdown").kv("signal", "SIGINT");
      supervisor_.kill_all();
    }
  }

  uv_loop_t* loop_;
  Prepared p_;
  Supervisor supervisor_;
  uv::ProcessSignals signals_;
  DirWatch accounts_watch_;
  std::set<std::string> dir_workers_;  // workers started for a file in accounts_dir
  std::vector<std::string> pinned_;    // accounts configured elsewhere (account_sync.h)
  int mock_port_ = 0;                  // 0 until the mock first reports READY
  bool mock_ready_since_start_ = false;
  bool told_manager_ = false;
  std::string url_file_;  // runtime_dir/frontend.url once written
};

Result<Prepared> prepare(const UpOptions& options) {
  Prepared p;
  auto config = load_config(options.config_path);
  if (!config) return config.error();
  p.config = std::move(config.value());
  if (!options.config_path.empty()) p.launch.config_path = absolute_path(options.config_path);
  p.launch.force_demo = options.force_demo;

  std::vector<std::string> dirs = options.bin_dirs;
  if (dirs.empty()) {
    auto self = self_exe_dir();
    if (!self) return self.error();
    dirs.push_back(*self);
  }

  auto secret = random_hex(16);
  if (!secret) return secret.error();
  p.mock_secret = *secret;
  // Check every binary before taking any resource.
  for (auto name : {kBrokerBinary, kFrontendBinary, kWorkerBinary}) {
    auto path = find_binary(dirs, name);
    if (!path) return path.error();
  }
  // The launcher owns the frontend's listening socket and hands it down, so a
  // restarted frontend keeps the port and clients queue in the backlog
  // instead of being refused. A busy port is an error, never a kill.
  int port = 0;
  auto fd = listen_tcp(p.config.frontend.host, p.config.frontend.port, &port);
  if (!fd) return fd.error();
  p.launch.listen_fd = *fd;

  p.plan = plan_launch(p.config, p.launch, p.mock_secret);
  for (auto& spec : p.plan.children) {
    auto path = find_binary(dirs, spec.program);
    if (!path) return path.error();
    spec.program = *path;
    if (spec.kind == ChildKind::kMock) p.mock_program = *path;
  }
  auto worker = find_binary(dirs, kWorkerBinary);
  if (!worker) return worker.error();
  p.worker_program = *worker;
  if (p.plan.demo) {
    int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    p.demo_jwt = mock::mint_jwt(p.mock_secret, kDemoUser, now_s + kDemoJwtLifetimeS);
  }

  Status s = fs::ensure_private_dir(p.config.runtime_dir);
  if (!s.ok()) return error(s.code(), "runtime directory: " + s.message());
  p.notify_path = p.config.runtime_dir + "/launcher-" + std::to_string(::getpid()) + ".notify";
  return p;
}

}  // namespace

int run_up(const UpOptions& options) {
  auto prepared = prepare(options);
  if (!prepared) return fail(prepared.error().message());

  uv_loop_t loop;
  if (int rc = uv_loop_init(&loop); rc != 0)
    return fail(std::string("uv_loop_init: ") + uv_strerror(rc));
  int code = kExitOk;
  {
    Launcher launcher(&loop, std::move(prepared.value()));
    Status s = launcher.start();
    if (!s.ok()) {
      code = fail(s.message());
    } else {
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  if (uv::close_loop(&loop) != 0) QP_WARN("loop_close_busy");
  return code;
}

}  // namespace qp::launcher
