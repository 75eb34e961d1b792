#include "tools/launcher/supervisor.h"

#include <csignal>
#include <cstring>

#include "common/log.h"
#include "common/uv/callback.h"

extern char** environ;  // NOLINT: POSIX global

namespace qp::launcher {

struct Supervisor::Child {
  Supervisor* owner = nullptr;
  ChildSpec spec;
  uv::Handle<uv_process_t> process;  // live while running, reset in on_exit
  uv::Timer restart_timer;
  uv::Timer watchdog_timer;
  Backoff backoff;
  pid_t pid = 0;  // 0 while not running
  uint64_t started_ms = 0;
  bool restart_pending = false;  // restart() asked for a restart without delay
  bool removing = false;         // remove(): forget it once it has exited
  bool running() const { return pid != 0; }
};

namespace {

bool env_name_is(const char* entry, std::string_view name) {
  return std::strncmp(entry, name.data(), name.size()) == 0 && entry[name.size()] == '=';
}

}  // namespace

Supervisor::Supervisor(uv_loop_t* loop, Options options, Observer* observer)
    : loop_(loop),
      options_(std::move(options)),
      observer_(observer),
      notify_(loop,
              [this](pid_t sender, std::string_view payload) { on_datagram(sender, payload); }) {
  uv_timer_init(loop_, stop_timer_.get());
  stop_timer_.get()->data = this;
}

Supervisor::~Supervisor() { close(); }

Status Supervisor::open() { return notify_.open(options_.notify_socket_path); }

void Supervisor::close() {
  notify_.close();
  stop_timer_.reset();
  for (auto& c : children_) {
    c->restart_timer.reset();
    c->watchdog_timer.reset();
    if (c->running()) {
      // Only reached on a bug path (close() before on_stopped()): never leave
      // an orphan behind.
      uv_process_kill(c->process.get(), SIGKILL);
      c->process.reset();
      c->pid = 0;
    }
  }
}

Supervisor::Child* Supervisor::find(std::string_view name) const {
  for (const auto& c : children_) {
    if (c->spec.name == name) return c.get();
  }
  return nullptr;
}

Supervisor::Child* Supervisor::find_pid(pid_t pid) const {
  for (const auto& c : children_) {
    if (c->running() && c->pid == pid) return c.get();
  }
  return nullptr;
}

int Supervisor::pid_of(std::string_view name) const {
  const Child* c = find(name);
  return c == nullptr ? 0 : c->pid;
}

void Supervisor::add(ChildSpec spec) {
  if (Child* c = find(spec.name); c != nullptr && c->removing) {
    // Back before it has exited: start it again as soon as it has.
    c->removing = false;
    c->restart_pending = true;
  }
  if (update(spec)) return;
  auto child = std::make_unique<Child>();
  child->owner = this;
  child->spec = std::move(spec);
  child->backoff = Backoff(options_.backoff);
  uv_timer_init(loop_, child->restart_timer.get());
  child->restart_timer.get()->data = child.get();
  uv_timer_init(loop_, child->watchdog_timer.get());
  child->watchdog_timer.get()->data = child.get();
  Child* raw = child.get();
  children_.push_back(std::move(child));
  if (!stopping_) spawn(raw);
}

bool Supervisor::update(const ChildSpec& spec) {
  Child* c = find(spec.name);
  if (c == nullptr) return false;
  c->spec = spec;
  return true;
}

bool Supervisor::restart(std::string_view name) {
  Child* c = find(name);
  if (c == nullptr || stopping_) return false;
  if (c->running()) {
    c->restart_pending = true;
    uv_process_kill(c->process.get(), SIGTERM);
    // A child that ignores SIGTERM gets SIGKILL after the stop deadline; its
    // exit re-arms this timer for the immediate restart.
    uv_timer_start(c->restart_timer.get(), &Supervisor::on_restart_deadline,
                   options_.stop_timeout_ms, 0);
  } else {
    uv_timer_stop(c->restart_timer.get());
    spawn(c);
  }
  return true;
}

bool Supervisor::remove(std::string_view name) {
  Child* c = find(name);
  if (c == nullptr || stopping_) return false;
  if (!c->running()) {
    forget(c);
    return true;
  }
  c->removing = true;
  c->restart_pending = false;
  uv_timer_stop(c->watchdog_timer.get());
  uv_process_kill(c->process.get(), SIGTERM);
  // The same deadline as stop(): a child that ignores SIGTERM gets SIGKILL.
  uv_timer_start(c->restart_timer.get(), &Supervisor::on_restart_deadline, options_.stop_timeout_ms,
                 0);
  return true;
}

void Supervisor::forget(Child* child) {
  for (auto it = children_.begin(); it != children_.end(); ++it) {
    if (it->get() == child) {
      children_.erase(it);  // its handles are closed by their destructors
      return;
    }
  }
}

void Supervisor::signal_kind(ChildKind kind, int signum) {
  for (auto& c : children_) {
    if (c->spec.kind == kind && c->running()) uv_process_kill(c->process.get(), signum);
  }
}

void Supervisor::stop() {
  if (!stopping_) {
    stopping_ = true;
    for (auto& c : children_) {
      uv_timer_stop(c->restart_timer.get());
      uv_timer_stop(c->watchdog_timer.get());
      if (c->running()) uv_process_kill(c->process.get(), SIGTERM);
    }
    if (stop_timer_)
      uv_timer_start(stop_timer_.get(), &Supervisor::on_stop_timer, options_.stop_timeout_ms, 0);
  }
  maybe_finish_stop();
}

void Supervisor::kill_all() {
  stop();
  for (auto& c : children_) {
    if (c->running()) uv_process_kill(c->process.get(), SIGKILL);
  }
}

void Supervisor::maybe_finish_stop() {
  if (!stopping_ || stopped_reported_) return;
  for (const auto& c : children_) {
    if (c->running()) return;
  }
  stopped_reported_ = true;
  if (stop_timer_) uv_timer_stop(stop_timer_.get());
  observer_->on_stopped();
}

std::vector<std::string> Supervisor::child_env(const ChildSpec& spec) const {
  // Names we set ourselves; an inherited value (e.g. the launcher's own
  // systemd NOTIFY_SOCKET) must not reach the child.
  std::vector<std::string_view> drop = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};
  for (const auto& e : spec.env) drop.push_back(e.name);
  std::vector<std::string> env;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
    bool keep = true;
    for (auto name : drop) {
      if (env_name_is(*p, name)) {
        keep = false;
        break;
      }
    }
    if (keep) env.emplace_back(*p);
  }
  for (const auto& e : spec.env) {
    if (e.value) env.push_back(e.name + "=" + *e.value);
  }
  env.push_back("NOTIFY_SOCKET=" + notify_.path());
  if (options_.watchdog_ms > 0) {
    env.push_back("WATCHDOG_USEC=" + std::to_string(options_.watchdog_ms * 1000));
  }
  return env;
}

void Supervisor::spawn(Child* child) {
  if (stopping_ || child->running()) return;
  const ChildSpec& spec = child->spec;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(spec.program.c_str()));  // NOLINT: libuv's C API
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT
  argv.push_back(nullptr);
  std::vector<std::string> env = child_env(spec);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::vector<uv_stdio_container_t> stdio(3 + spec.inherit_fds.size());
  stdio[0].flags = UV_IGNORE;  // children never read the terminal
  for (int fd = 1; fd <= 2; ++fd) {
    stdio[fd].flags = UV_INHERIT_FD;
    stdio[fd].data.fd = fd;
  }
  for (size_t i = 0; i < spec.inherit_fds.size(); ++i) {  // become fd 3, 4, … in the child
    stdio[3 + i].flags = UV_INHERIT_FD;
    stdio[3 + i].data.fd = spec.inherit_fds[i];
  }
  uv_process_options_t opts{};
  opts.exit_cb = &Supervisor::on_exit;
  opts.file = spec.program.c_str();
  opts.args = argv.data();
  opts.env = envp.data();
  opts.stdio_count = static_cast<int>(stdio.size());
  opts.stdio = stdio.data();

  child->process = uv::Handle<uv_process_t>();
  int rc = uv_spawn(loop_, child->process.get(), &opts);
  if (rc != 0) {
    child->process.reset();
    uint64_t delay = child->backoff.next_delay_ms(0);
    schedule_restart(child, delay);
    observer_->on_spawn_failed(
        spec, error(Code::kIo, std::string(uv_err_name(rc)) + ": " + uv_strerror(rc)), delay);
    return;
  }
  child->process.get()->data = child;
  child->pid = child->process.get()->pid;
  child->started_ms = uv_now(loop_);
  uv_timer_stop(child->watchdog_timer.get());  // armed by the first WATCHDOG=1
  observer_->on_started(spec, child->pid);
}

void Supervisor::schedule_restart(Child* child, uint64_t delay_ms) {
  if (stopping_) return;
  uv_timer_start(child->restart_timer.get(), &Supervisor::on_restart_timer, delay_ms, 0);
}

void Supervisor::arm_watchdog(Child* child) {
  if (options_.watchdog_ms == 0 || stopping_) return;
  uv_timer_start(child->watchdog_timer.get(), &Supervisor::on_watchdog_timer, options_.watchdog_ms,
                 0);
}

void Supervisor::on_datagram(pid_t sender, std::string_view payload) {
  Child* child = find_pid(sender);
  if (child == nullptr) {
    QP_DEBUG("notify_unknown_sender").kv("pid", static_cast<int64_t>(sender));
    return;
  }
  auto msg = parse_notify_message(payload);
  if (!msg) {
    QP_WARN("notify_bad_message").kv("child", child->spec.name).kv("error", msg.error().message());
    return;
  }
  if (msg->watchdog) arm_watchdog(child);
  observer_->on_notify(child->spec, *msg);
}

void Supervisor::on_exit(uv_process_t* process, int64_t exit_status, int term_signal) {
  auto* child = static_cast<Child*>(process->data);
  if (child == nullptr) return;
  uv::guarded("launcher.on_exit", [&] {
    Supervisor* self = child->owner;
    uint64_t uptime_ms = uv_now(self->loop_) - child->started_ms;
    child->pid = 0;
    child->process.reset();  // uv_close inside the exit callback is the documented pattern
    uv_timer_stop(child->watchdog_timer.get());
    ExitInfo exit{exit_status, term_signal};
    if (self->stopping_) {
      self->observer_->on_exited(child->spec, exit, std::nullopt);
      self->maybe_finish_stop();
      return;
    }
    if (child->removing) {
      ChildSpec spec = child->spec;
      self->forget(child);  // `child` is gone from here on
      self->observer_->on_exited(spec, exit, std::nullopt);
      return;
    }
    uint64_t delay = 0;
    if (child->restart_pending) {
      child->restart_pending = false;
    } else {
      delay = child->backoff.next_delay_ms(uptime_ms);
    }
    self->schedule_restart(child, delay);
    self->observer_->on_exited(child->spec, exit, delay);
  });
}

void Supervisor::on_restart_timer(uv_timer_t* timer) {
  auto* child = static_cast<Child*>(timer->data);
  if (child == nullptr) return;
  uv::guarded("launcher.on_restart_timer", [&] { child->owner->spawn(child); });
}

void Supervisor::on_restart_deadline(uv_timer_t* timer) {
  auto* child = static_cast<Child*>(timer->data);
  if (child == nullptr) return;
  uv::guarded("launcher.on_restart_deadline", [&] {
    if (child->running() && (child->restart_pending || child->removing)) {
      uv_process_kill(child->process.get(), SIGKILL);
    }
  });
}

void Supervisor::on_watchdog_timer(uv_timer_t* timer) {
  auto* child = static_cast<Child*>(timer->data);
  if (child == nullptr) return;
  uv::guarded("launcher.on_watchdog_timer", [&] {
    Supervisor* self = child->owner;
    if (!child->running() || self->stopping_) return;
    self->observer_->on_watchdog_timeout(child->spec, child->pid);
    uv_process_kill(child->process.get(), SIGKILL);  // on_exit restarts it
  });
}

void Supervisor::on_stop_timer(uv_timer_t* timer) {
  auto* self = static_cast<Supervisor*>(timer->data);
  if (self == nullptr) return;
  uv::guarded("launcher.on_stop_timer", [&] {
    for (auto& c : self->children_) {
      if (c->running()) uv_process_kill(c->process.get(), SIGKILL);
    }
  });
}

}  // namespace qp::launcher
