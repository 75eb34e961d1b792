// Supervisor against real processes: the stand-in child (test_child.cc)
// speaks sd_notify like our binaries. Every step is driven by an event
// (READY, exit, start); the only timer is a guard that fails the test.
#include "tools/launcher/supervisor.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <memory>

#include <catch2/catch.hpp>

#include "common/uv/handle.h"

#ifndef QP_LAUNCHER_TEST_CHILD
#error "QP_LAUNCHER_TEST_CHILD must name the stand-in child binary"
#endif

namespace qp::launcher {
namespace {

struct Event {
  enum Kind { kStarted, kExited, kSpawnFailed, kNotify, kWatchdog, kStopped } kind;
  std::string name;
  int pid = 0;
  ExitInfo exit;
  std::optional<uint64_t> restart_in_ms;
  NotifyMessage msg;
  uint64_t at_ns = 0;
};

class Harness final : public Supervisor::Observer {
 public:
  using Script = std::function<void(Harness&, const Event&)>;

  explicit Harness(Supervisor::Options options = {}) {
    char tmpl[] = "/tmp/qp-sup-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    REQUIRE(uv_loop_init(&loop_) == 0);
    options.notify_socket_path = dir_ + "/notify.sock";
    sup_ = std::make_unique<Supervisor>(&loop_, options, this);
    Status s = sup_->open();
    REQUIRE(s.ok());
  }
  ~Harness() override {
    sup_.reset();
    guard_.reset();
    CHECK(uv::close_loop(&loop_) == 0);
    ::rmdir(dir_.c_str());
  }

  static ChildSpec child(std::string name, std::vector<std::string> args,
                         ChildKind kind = ChildKind::kBroker) {
    return ChildSpec{std::move(name), kind, QP_LAUNCHER_TEST_CHILD, std::move(args), {}, {}};
  }

  // Runs the loop until the supervisor has stopped (or the guard fires).
  void run(Script script, uint64_t guard_ms = 10'000) {
    script_ = std::move(script);
    uv_timer_init(&loop_, guard_.get());
    guard_.get()->data = this;
    uv_timer_start(
        guard_.get(),
        [](uv_timer_t* t) {
          auto* self = static_cast<Harness*>(t->data);
          self->timed_out_ = true;
          self->sup_->kill_all();
          uv_stop(&self->loop_);
        },
        guard_ms, 0);
    for (auto& spec : pending_) sup_->add(spec);
    pending_.clear();
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK_FALSE(timed_out_);
  }

  void add(ChildSpec spec) { pending_.push_back(std::move(spec)); }
  Supervisor& sup() { return *sup_; }
  const std::vector<Event>& events() const { return events_; }
  std::vector<Event> of(Event::Kind kind) const {
    std::vector<Event> out;
    for (const auto& e : events_) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  const std::string& dir() const { return dir_; }

  // Supervisor::Observer
  void on_started(const ChildSpec& spec, int pid) override {
    record({Event::kStarted, spec.name, pid, {}, std::nullopt, {}});
  }
  void on_exited(const ChildSpec& spec, ExitInfo exit, std::optional<uint64_t> restart) override {
    record({Event::kExited, spec.name, 0, exit, restart, {}});
  }
  void on_spawn_failed(const ChildSpec& spec, const Status&, uint64_t restart) override {
    record({Event::kSpawnFailed, spec.name, 0, {}, restart, {}});
  }
  void on_notify(const ChildSpec& spec, const NotifyMessage& msg) override {
    record({Event::kNotify, spec.name, sup_->pid_of(spec.name), {}, std::nullopt, msg});
  }
  void on_watchdog_timeout(const ChildSpec& spec, int pid) override {
    record({Event::kWatchdog, spec.name, pid, {}, std::nullopt, {}});
  }
  void on_stopped() override {
    record({Event::kStopped, "", 0, {}, std::nullopt, {}});
    sup_->close();
    guard_.reset();
  }

 private:
  void record(Event e) {
    e.at_ns = uv_hrtime();
    events_.push_back(e);
    if (script_) script_(*this, events_.back());
  }

  uv_loop_t loop_{};
  std::string dir_;
  std::unique_ptr<Supervisor> sup_;
  uv::Timer guard_;
  Script script_;
  std::vector<ChildSpec> pending_;
  std::vector<Event> events_;
  bool timed_out_ = false;
};

bool is_ready(const Event& e) { return e.kind == Event::kNotify && e.msg.ready; }

TEST_CASE("supervisor reports a child's READY with its port and stops it cleanly",
          "[launcher][supervisor]") {
  Harness h;
  h.add(Harness::child("a", {"ready", "4242"}));
  h.run([](Harness& self, const Event& e) {
    if (is_ready(e)) self.sup().stop();
  });
  auto ready = h.of(Event::kNotify);
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].msg.port == 4242);
  CHECK(ready[0].msg.status == std::string("standing in"));
  auto started = h.of(Event::kStarted);
  REQUIRE(started.size() == 1);
  CHECK(ready[0].pid == started[0].pid);
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 1);
  CHECK(exited[0].exit.code == 0);  // the child exits 0 on SIGTERM
  CHECK(exited[0].exit.signal == 0);
  CHECK_FALSE(exited[0].restart_in_ms.has_value());
  CHECK(h.events().back().kind == Event::kStopped);
}

TEST_CASE("a child killed with SIGKILL is back within 2 s", "[launcher][supervisor]") {
  Harness h;
  h.add(Harness::child("broker", {"ready", "0"}));
  int readies = 0;
  h.run([&](Harness& self, const Event& e) {
    if (!is_ready(e)) return;
    if (++readies == 1) {
      CHECK(::kill(e.pid, SIGKILL) == 0);
    } else {
      self.sup().stop();
    }
  });
  auto started = h.of(Event::kStarted);
  REQUIRE(started.size() == 2);
  CHECK(started[0].pid != started[1].pid);
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 2);
  CHECK(exited[0].exit.signal == SIGKILL);
  CHECK(exited[0].restart_in_ms == std::optional<uint64_t>(100));
  uint64_t back_after_ms = (started[1].at_ns - exited[0].at_ns) / 1'000'000;
  CHECK(back_after_ms >= 90);   // the backoff delay is honoured…
  CHECK(back_after_ms < 2000);  // …and the requirement met
}

TEST_CASE("a child that keeps dying is restarted with growing delays", "[launcher][supervisor]") {
  Supervisor::Options o;
  o.backoff = BackoffPolicy{10, 1000, 30'000};
  Harness h(o);
  h.add(Harness::child("crashy", {"exit", "3"}));
  h.run([](Harness& self, const Event& e) {
    if (e.kind == Event::kExited && self.of(Event::kExited).size() == 4) self.sup().stop();
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 4);
  CHECK(exited[0].exit.code == 3);
  CHECK(exited[0].restart_in_ms == std::optional<uint64_t>(10));
  CHECK(exited[1].restart_in_ms == std::optional<uint64_t>(20));
  CHECK(exited[2].restart_in_ms == std::optional<uint64_t>(40));
  CHECK(exited[3].restart_in_ms == std::optional<uint64_t>(80));
  CHECK(h.of(Event::kStarted).size() == 4);  // stopped before the 5th start
  CHECK(h.events().back().kind == Event::kStopped);
}

TEST_CASE("stop() escalates to SIGKILL after the deadline", "[launcher][supervisor]") {
  Supervisor::Options o;
  o.stop_timeout_ms = 100;
  Harness h(o);
  h.add(Harness::child("stubborn", {"ignore-term"}));
  uint64_t stop_ns = 0;
  h.run([&](Harness& self, const Event& e) {
    if (is_ready(e)) {
      stop_ns = uv_hrtime();
      self.sup().stop();
    }
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 1);
  CHECK(exited[0].exit.signal == SIGKILL);
  CHECK_FALSE(exited[0].restart_in_ms.has_value());
  CHECK((exited[0].at_ns - stop_ns) / 1'000'000 >= 90);
}

TEST_CASE("kill_all() does not wait for the deadline", "[launcher][supervisor]") {
  Supervisor::Options o;
  o.stop_timeout_ms = 60'000;  // the guard (10 s) fails the test if we waited for this
  Harness h(o);
  h.add(Harness::child("stubborn", {"ignore-term"}));
  h.run([](Harness& self, const Event& e) {
    if (is_ready(e)) {
      self.sup().stop();
      self.sup().kill_all();
    }
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 1);
  CHECK(exited[0].exit.signal == SIGKILL);
}

TEST_CASE("a child that stops sending watchdog pings is killed and restarted",
          "[launcher][supervisor]") {
  Supervisor::Options o;
  o.watchdog_ms = 100;
  Harness h(o);
  h.add(Harness::child("hung", {"watchdog-once"}));
  h.run([](Harness& self, const Event& e) {
    if (e.kind == Event::kStarted && self.of(Event::kStarted).size() == 2) self.sup().stop();
  });
  auto dog = h.of(Event::kWatchdog);
  REQUIRE(dog.size() == 1);
  auto started = h.of(Event::kStarted);
  CHECK(dog[0].pid == started[0].pid);
  auto exited = h.of(Event::kExited);
  REQUIRE_FALSE(exited.empty());
  CHECK(exited[0].exit.signal == SIGKILL);
  CHECK(exited[0].restart_in_ms.has_value());
}

TEST_CASE("a child that never pings the watchdog is left alone", "[launcher][supervisor]") {
  Supervisor::Options o;
  o.watchdog_ms = 50;
  Harness h(o);
  // "a" never pings; "hung" pings once. If "a" were armed it would be killed
  // first (it started first and the timeout is the same).
  h.add(Harness::child("a", {"ready", "0"}));
  h.add(Harness::child("hung", {"watchdog-once"}));
  h.run([](Harness& self, const Event& e) {
    if (e.kind == Event::kWatchdog) self.sup().stop();
  });
  auto dog = h.of(Event::kWatchdog);
  REQUIRE(dog.size() == 1);
  CHECK(dog[0].name == "hung");
}

TEST_CASE("children get the notify socket, the watchdog and their spec's environment",
          "[launcher][supervisor]") {
  ::setenv("QP_TEST_KEEP", "k", 1);
  ::setenv("QP_TEST_DROP", "d", 1);
  ::setenv("NOTIFY_SOCKET", "/nonexistent/launchers-own.sock", 1);
  Supervisor::Options o;
  o.watchdog_ms = 30'000;
  Harness h(o);
  ChildSpec spec = Harness::child("e", {"env", "NOTIFY_SOCKET", "WATCHDOG_USEC", "QP_TEST_KEEP",
                                        "QP_TEST_DROP", "QP_TEST_SET"});
  spec.env = {{"QP_TEST_SET", "s"}, {"QP_TEST_DROP", std::nullopt}};
  h.add(spec);
  h.run([](Harness& self, const Event& e) {
    if (is_ready(e)) self.sup().stop();
  });
  ::unsetenv("QP_TEST_KEEP");
  ::unsetenv("QP_TEST_DROP");
  ::unsetenv("NOTIFY_SOCKET");
  auto notes = h.of(Event::kNotify);
  REQUIRE(notes.size() == 2);
  REQUIRE(notes[0].msg.status.has_value());
  CHECK(*notes[0].msg.status == "NOTIFY_SOCKET=" + h.dir() +
                                    "/notify.sock WATCHDOG_USEC=30000000 QP_TEST_KEEP=k "
                                    "QP_TEST_DROP! QP_TEST_SET=s ");
}

TEST_CASE("SIGHUP goes to workers only", "[launcher][supervisor]") {
  Harness h;
  h.add(Harness::child("b", {"ready", "0"}, ChildKind::kBroker));
  h.add(Harness::child("w", {"ready", "0"}, ChildKind::kWorker));
  int readies = 0;
  h.run([&](Harness& self, const Event& e) {
    if (is_ready(e) && ++readies == 2) self.sup().signal_kind(ChildKind::kWorker, SIGHUP);
    if (e.kind == Event::kNotify && e.msg.status == std::string("hup")) self.sup().stop();
  });
  std::vector<std::string> hupped;
  for (const auto& e : h.of(Event::kNotify)) {
    if (e.msg.status == std::string("hup")) hupped.push_back(e.name);
  }
  CHECK(hupped == std::vector<std::string>{"w"});
}

TEST_CASE("restart() restarts at once with the updated spec", "[launcher][supervisor]") {
  Harness h;
  h.add(Harness::child("a", {"ready", "1111"}));
  h.run([](Harness& self, const Event& e) {
    if (!is_ready(e)) return;
    if (e.msg.port == 1111) {
      CHECK(self.sup().update(Harness::child("a", {"ready", "2222"})));
      CHECK(self.sup().restart("a"));
    } else {
      self.sup().stop();
    }
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 2);
  CHECK(exited[0].restart_in_ms == std::optional<uint64_t>(0));
  auto ready = h.of(Event::kNotify);
  REQUIRE(ready.size() == 2);
  CHECK(ready[1].msg.port == 2222);
  CHECK_FALSE(h.sup().update(Harness::child("unknown", {})));
  CHECK_FALSE(h.sup().restart("unknown"));
}

TEST_CASE("restart() of a child that ignores SIGTERM kills it after the deadline",
          "[launcher][supervisor]") {
  Supervisor::Options o;
  o.stop_timeout_ms = 100;
  Harness h(o);
  h.add(Harness::child("stubborn", {"ignore-term"}));
  int readies = 0;
  h.run([&](Harness& self, const Event& e) {
    if (!is_ready(e)) return;
    if (++readies == 1)
      CHECK(self.sup().restart("stubborn"));
    else
      self.sup().stop();
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 2);
  CHECK(exited[0].exit.signal == SIGKILL);
  CHECK(exited[0].restart_in_ms == std::optional<uint64_t>(0));
  CHECK(h.of(Event::kStarted).size() == 2);
}

TEST_CASE("remove() stops a child with SIGTERM for good and forgets it", "[launcher][supervisor]") {
  Harness h;
  h.add(Harness::child("worker:bob", {"ready", "0"}, ChildKind::kWorker));
  h.add(Harness::child("broker", {"ready", "0"}));
  int readies = 0;
  h.run([&](Harness& self, const Event& e) {
    if (is_ready(e) && ++readies == 2) CHECK(self.sup().remove("worker:bob"));
    if (e.kind == Event::kExited && e.name == "worker:bob") {
      CHECK(self.sup().pid_of("worker:bob") == 0);
      CHECK_FALSE(self.sup().remove("worker:bob"));  // forgotten
      CHECK(self.sup().pid_of("broker") != 0);       // the others keep running
      self.sup().stop();
    }
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 2);
  CHECK(exited[0].name == "worker:bob");
  CHECK(exited[0].exit.code == 0);  // SIGTERM: the stand-in exits 0
  CHECK_FALSE(exited[0].restart_in_ms.has_value());
  CHECK(h.of(Event::kStarted).size() == 2);  // never restarted
}

TEST_CASE("remove() of a child that ignores SIGTERM kills it after the deadline",
          "[launcher][supervisor]") {
  Supervisor::Options o;
  o.stop_timeout_ms = 100;
  Harness h(o);
  h.add(Harness::child("stubborn", {"ignore-term"}));
  h.run([&](Harness& self, const Event& e) {
    if (is_ready(e)) CHECK(self.sup().remove("stubborn"));
    if (e.kind == Event::kExited) self.sup().stop();
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 1);
  CHECK(exited[0].exit.signal == SIGKILL);
  CHECK_FALSE(exited[0].restart_in_ms.has_value());
}

TEST_CASE("add() during a removal starts the child again once it has exited",
          "[launcher][supervisor]") {
  Harness h;
  h.add(Harness::child("a", {"ready", "1111"}));
  h.run([&](Harness& self, const Event& e) {
    if (!is_ready(e)) return;
    if (e.msg.port == 1111) {
      CHECK(self.sup().remove("a"));
      self.sup().add(Harness::child("a", {"ready", "2222"}));  // the file came back
    } else {
      self.sup().stop();
    }
  });
  auto exited = h.of(Event::kExited);
  REQUIRE(exited.size() == 2);
  CHECK(exited[0].restart_in_ms == std::optional<uint64_t>(0));
  auto ready = h.of(Event::kNotify);
  REQUIRE(ready.size() == 2);
  CHECK(ready[1].msg.port == 2222);
}

TEST_CASE("a program that cannot be spawned is retried with backoff", "[launcher][supervisor]") {
  Supervisor::Options o;
  o.backoff = BackoffPolicy{10, 1000, 30'000};
  Harness h(o);
  ChildSpec spec = Harness::child("ghost", {});
  spec.program = "/nonexistent/qp-ghost";
  h.add(spec);
  h.run([](Harness& self, const Event& e) {
    if (e.kind == Event::kSpawnFailed && self.of(Event::kSpawnFailed).size() == 3) {
      self.sup().stop();
    }
  });
  auto failed = h.of(Event::kSpawnFailed);
  REQUIRE(failed.size() == 3);
  CHECK(failed[0].restart_in_ms == std::optional<uint64_t>(10));
  CHECK(failed[1].restart_in_ms == std::optional<uint64_t>(20));
  CHECK(failed[2].restart_in_ms == std::optional<uint64_t>(40));
  CHECK(h.of(Event::kStarted).empty());
}

TEST_CASE("notify datagrams from processes we did not start are ignored",
          "[launcher][supervisor]") {
  Harness h;
  // Queued before the child exists, so it is read first.
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = h.sup().notify_socket_path();
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  const char kForged[] = "READY=1\nQP_PORT=1";
  REQUIRE(::sendto(fd, kForged, sizeof kForged - 1, 0, reinterpret_cast<sockaddr*>(&addr),
                   sizeof addr) == static_cast<ssize_t>(sizeof kForged - 1));
  ::close(fd);
  h.add(Harness::child("a", {"ready", "4242"}));
  h.run([](Harness& self, const Event& e) {
    if (is_ready(e)) self.sup().stop();
  });
  auto notes = h.of(Event::kNotify);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].msg.port == 4242);
}

TEST_CASE("stop() with no children reports stopped at once", "[launcher][supervisor]") {
  Harness h;
  h.sup().stop();
  REQUIRE(h.events().size() == 1);
  CHECK(h.events()[0].kind == Event::kStopped);
  h.sup().stop();                                       // idempotent: no second report
  h.sup().add(Harness::child("late", {"ready", "0"}));  // nothing starts once stopping
  CHECK(h.events().size() == 1);
  CHECK(h.sup().pid_of("late") == 0);
}

}  // namespace
}  // namespace qp::launcher
