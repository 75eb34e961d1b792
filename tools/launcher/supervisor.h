// Runs child processes on a libuv loop and keeps them running: spawns them
// with an sd_notify socket (NOTIFY_SOCKET) in their environment, restarts
// each one that dies after a per-child exponential backoff, kills one that
// stops sending watchdog pings, and on stop() terminates them all (SIGTERM,
// then SIGKILL after a deadline).
//
// Policy lives elsewhere (backoff.h, child_spec.h, notify_message.h); the
// Supervisor only does process and socket I/O and reports every event to an
// Observer, which decides what to print and what to start next.
//
// Loop thread only. Observer callbacks run on the loop; they may call any
// Supervisor method but must not destroy the Supervisor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/uv/handle.h"
#include "tools/launcher/backoff.h"
#include "tools/launcher/child_spec.h"
#include "tools/launcher/notify_message.h"
#include "tools/launcher/notify_socket.h"

namespace qp::launcher {

class Supervisor {
 public:
  class Observer {
   public:
    virtual ~Observer() = default;
    virtual void on_started(const ChildSpec& spec, int pid) = 0;
    // `restart_in_ms` is empty while stopping (the child stays down).
    virtual void on_exited(const ChildSpec& spec, ExitInfo exit,
                           std::optional<uint64_t> restart_in_ms) = 0;
    virtual void on_spawn_failed(const ChildSpec& spec, const Status& why,
                                 uint64_t restart_in_ms) = 0;
    virtual void on_notify(const ChildSpec& spec, const NotifyMessage& msg) = 0;
    virtual void on_watchdog_timeout(const ChildSpec& spec, int pid) = 0;
    // After stop(): every child is gone. Called once.
    virtual void on_stopped() = 0;
  };

  struct Options {
    std::string notify_socket_path;  // created by open(), removed on close
    BackoffPolicy backoff;
    // Exported to children as WATCHDOG_USEC (0: not exported). A child that
    // has sent WATCHDOG=1 once and then stays silent this long is SIGKILLed.
    uint64_t watchdog_ms = 20'000;
    uint64_t stop_timeout_ms = 10'000;  // SIGTERM → SIGKILL deadline in stop()
  };

  Supervisor(uv_loop_t* loop, Options options, Observer* observer);
  // SIGKILLs children still running (a bug or a failed test) and closes handles.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Creates the notify socket. Call before add().
  Status open();

  // Adds a child and starts it now. Names are unique: adding an existing
  // name replaces its spec (used at the next start) and changes nothing else.
  void add(ChildSpec spec);
  // Replaces the spec used at the next (re)start. Returns false if unknown.
  bool update(const ChildSpec& spec);
  // Deliberate restart: SIGTERM now (SIGKILL after stop_timeout_ms), start
  // again as soon as it has exited (no backoff delay, backoff not advanced).
  // Starts it now if it is down. False if unknown or stopping.
  bool restart(std::string_view name);
  // Stops a child for good (its account file is gone): SIGTERM now, SIGKILL
  // after stop_timeout_ms, never restarted; forgotten once it has exited
  // (on_exited() with no restart). add() of the same name before then
  // cancels the removal: the child is started again once it has exited.
  // False if unknown or stopping.
  bool remove(std::string_view name);
  // Sends `signum` to every running child of `kind` (SIGHUP to workers).
  void signal_kind(ChildKind kind, int signum);

  // SIGTERM to every child, SIGKILL to those still alive after
  // stop_timeout_ms; then on_stopped(). Idempotent.
  void stop();
  // SIGKILL to every child now (second Ctrl-C). Implies stop().
  void kill_all();
  // Releases the loop handles (notify socket, timers). Children must be gone.
  void close();

  bool stopping() const { return stopping_; }
  const std::string& notify_socket_path() const { return notify_.path(); }
  // 0 when the child is not running or unknown.
  int pid_of(std::string_view name) const;

 private:
  struct Child;

  Child* find(std::string_view name) const;
  Child* find_pid(pid_t pid) const;
  void spawn(Child* child);
  void schedule_restart(Child* child, uint64_t delay_ms);
  void arm_watchdog(Child* child);
  void maybe_finish_stop();
  void forget(Child* child);
  void on_datagram(pid_t sender, std::string_view payload);
  std::vector<std::string> child_env(const ChildSpec& spec) const;

  static void on_exit(uv_process_t* process, int64_t exit_status, int term_signal);
  static void on_restart_timer(uv_timer_t* timer);
  static void on_restart_deadline(uv_timer_t* timer);
  static void on_watchdog_timer(uv_timer_t* timer);
  static void on_stop_timer(uv_timer_t* timer);

  uv_loop_t* loop_;
  Options options_;
  Observer* observer_;
  NotifySocket notify_;
  std::vector<std::unique_ptr<Child>> children_;
  uv::Timer stop_timer_;
  bool stopping_ = false;
  bool stopped_reported_ = false;
};

}  // namespace qp::launcher
