// The real `qwenproxy` binary against stand-in children (test_child.cc linked
// under the names qp-broker, qp-frontend, qp-worker and mock-qwen in a temp
// --bin-dir). Checks the documented stdout lines, restart after SIGKILL,
// clean SIGTERM shutdown and the exit-2 start-up errors. Driven by the
// launcher's output lines; the only timer is a guard that fails the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

#include <catch2/catch.hpp>

#include "common/uv/handle.h"

#ifndef QP_QWENPROXY_BIN
#error "QP_QWENPROXY_BIN must name the qwenproxy binary"
#endif

extern char** environ;  // NOLINT: POSIX global

namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qp-e2e-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A --bin-dir whose programs are the stand-in child.
std::string make_bin_dir(const TempDir& tmp,
                         std::vector<std::string> names = {"qp-broker", "qp-frontend", "qp-worker",
                                                           "mock-qwen"}) {
  std::string dir = tmp.path() + "/bin";
  fs::create_directories(dir);
  for (const auto& n : names) fs::create_symlink(QP_LAUNCHER_TEST_CHILD, dir + "/" + n);
  return dir;
}

// One run of qwenproxy: stdout is read line by line and handed to a script.
class Run {
 public:
  using Script = std::function<void(Run&, const std::string& line)>;

  Run() { REQUIRE(uv_loop_init(&loop_) == 0); }
  ~Run() {
    out_.reset();
    err_.reset();
    process_.reset();
    guard_.reset();
    CHECK(qp::uv::close_loop(&loop_) == 0);
  }

  // Runs `qwenproxy args...` with the test's environment minus anything that
  // configures qwenproxy, plus `env`. Returns when it has exited and closed
  // its stdout (so no child kept it open), or when the guard fires.
  void run(std::vector<std::string> args, std::map<std::string, std::string> env, Script script,
           uint64_t guard_ms = 15'000) {
    script_ = std::move(script);
    std::vector<std::string> envs;
    for (char** p = environ; *p != nullptr; ++p) {
      std::string e = *p;
      if (e.rfind("QWEN_", 0) == 0 || e.rfind("QP_", 0) == 0 || e.rfind("NOTIFY_SOCKET=", 0) == 0) {
        continue;
      }
      envs.push_back(e);
    }
    for (auto& [k, v] : env) envs.push_back(k + "=" + v);
    // The launcher binds the frontend port itself: never a fixed port in tests.
    if (env.count("QP_PORT") == 0) envs.push_back("QP_PORT=0");
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    args.insert(args.begin(), QP_QWENPROXY_BIN);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    uv_pipe_init(&loop_, out_.get(), 0);
    uv_pipe_init(&loop_, err_.get(), 0);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(out_.get());
    stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(err_.get());
    uv_process_options_t opts{};
    opts.file = argv[0];
    opts.args = argv.data();
    opts.env = envp.data();
    opts.stdio_count = 3;
    opts.stdio = stdio;
    opts.exit_cb = [](uv_process_t* p, int64_t status, int sig) {
      auto* self = static_cast<Run*>(p->data);
      self->exit_code_ = status;
      self->exit_signal_ = sig;
      self->maybe_done();
    };
    REQUIRE(uv_spawn(&loop_, process_.get(), &opts) == 0);
    process_.get()->data = this;
    pid_ = process_.get()->pid;

    out_.get()->data = this;
    uv_read_start(reinterpret_cast<uv_stream_t*>(out_.get()), alloc,
                  [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                    auto* self = static_cast<Run*>(s->data);
                    self->on_out(n, buf);
                  });
    err_.get()->data = this;
    uv_read_start(reinterpret_cast<uv_stream_t*>(err_.get()), alloc,
                  [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                    auto* self = static_cast<Run*>(s->data);
                    if (n > 0) self->stderr_.append(buf->base, static_cast<size_t>(n));
                    delete[] buf->base;
                    if (n < 0) uv_read_stop(s);
                  });

    uv_timer_init(&loop_, guard_.get());
    guard_.get()->data = this;
    uv_timer_start(
        guard_.get(),
        [](uv_timer_t* t) {
          auto* self = static_cast<Run*>(t->data);
          self->timed_out_ = true;
          ::kill(self->pid_, SIGKILL);
          uv_stop(&self->loop_);
        },
        guard_ms, 0);
    uv_run(&loop_, UV_RUN_DEFAULT);
    INFO("stdout:\n" << stdout_ << "\nstderr:\n" << stderr_);
    CHECK_FALSE(timed_out_);
  }

  void signal(int signum) { ::kill(pid_, signum); }
  const std::vector<std::string>& lines() const { return lines_; }
  const std::string& out() const { return stdout_; }
  const std::string& err() const { return stderr_; }
  std::optional<int64_t> exit_code() const { return exit_code_; }
  int exit_signal() const { return exit_signal_; }
  // Milliseconds since the loop started, for latency checks.
  uint64_t now_ms() { return uv_hrtime() / 1'000'000; }

 private:
  static void alloc(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
    buf->base = new char[suggested];
    buf->len = suggested;
  }

  void on_out(ssize_t n, const uv_buf_t* buf) {
    if (n > 0) {
      stdout_.append(buf->base, static_cast<size_t>(n));
      pending_.append(buf->base, static_cast<size_t>(n));
    }
    delete[] buf->base;
    size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      lines_.push_back(line);
      if (script_) script_(*this, line);
    }
    if (n < 0) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(out_.get()));
      stdout_closed_ = true;
      maybe_done();
    }
  }

  void maybe_done() {
    if (!exit_code_ || !stdout_closed_) return;
    guard_.reset();
    out_.reset();
    err_.reset();  // stderr may still hold bytes: they are only diagnostics
    process_.reset();
  }

  uv_loop_t loop_{};
  qp::uv::Handle<uv_process_t> process_;
  qp::uv::Handle<uv_pipe_t> out_, err_;
  qp::uv::Timer guard_;
  Script script_;
  int pid_ = 0;
  std::string stdout_, stderr_, pending_;
  std::vector<std::string> lines_;
  std::optional<int64_t> exit_code_;
  int exit_signal_ = 0;
  bool stdout_closed_ = false;
  bool timed_out_ = false;
};

std::optional<int> started_pid(const std::string& line, const std::string& name) {
  std::string prefix = "qwenproxy: started " + name + " pid=";
  if (line.rfind(prefix, 0) != 0) return std::nullopt;
  return std::atoi(line.c_str() + prefix.size());
}

bool has_line(const Run& r, const std::string& prefix) {
  for (const auto& l : r.lines()) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

size_t index_of(const Run& r, const std::string& prefix) {
  for (size_t i = 0; i < r.lines().size(); ++i) {
    if (r.lines()[i].rfind(prefix, 0) == 0) return i;
  }
  return r.lines().size();
}

// The port of a documented ready line for host 127.0.0.1, if `line` is one
// (and both URLs name the same port).
std::optional<int> ready_port(const std::string& line) {
  const std::string head = "qwenproxy: ready \u2014 OpenAI API at http://127.0.0.1:";
  if (line.rfind(head, 0) != 0) return std::nullopt;
  size_t end = line.find("/v1 (health: http://127.0.0.1:", head.size());
  if (end == std::string::npos) return std::nullopt;
  std::string port = line.substr(head.size(), end - head.size());
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  if (line != head + port + "/v1 (health: http://127.0.0.1:" + port + "/health)")
    return std::nullopt;
  return std::stoi(port);
}

bool is_version(const std::string& line) {
  const std::string head = "qwenproxy ";
  if (line.rfind(head, 0) != 0) return false;
  int dots = 0;
  for (size_t i = head.size(); i < line.size(); ++i) {
    if (line[i] == '.')
      ++dots;
    else if (line[i] < '0' || line[i] > '9')
      return false;
  }
  return dots == 2;
}

TEST_CASE("qwenproxy up in demo mode: ready, restart after SIGKILL, clean SIGTERM",
          "[launcher][e2e]") {
  TempDir tmp;
  std::string bin = make_bin_dir(tmp);
  std::string rt = tmp.path() + "/rt";
  Run r;
  std::optional<uint64_t> killed_at_ms, back_at_ms;
  int broker_starts = 0;
  r.run({"up", "--bin-dir", bin}, {{"QP_RUNTIME_DIR", rt}, {"QWEN_COOKIES", ""}},
        [&](Run& self, const std::string& line) {
          if (ready_port(line) && !killed_at_ms) {
            CHECK(*ready_port(line) > 0);
            // Recorded for `qwenproxy account status`.
            std::ifstream url_file(rt + "/frontend.url");
            std::string url;
            CHECK(std::getline(url_file, url));
            CHECK(url == "http://127.0.0.1:" + std::to_string(*ready_port(line)));
            auto first = std::find_if(
                self.lines().begin(), self.lines().end(),
                [](const std::string& l) { return started_pid(l, "broker").has_value(); });
            REQUIRE(first != self.lines().end());
            killed_at_ms = self.now_ms();
            ::kill(*started_pid(*first, "broker"), SIGKILL);
          } else if (started_pid(line, "broker") && ++broker_starts == 2) {
            back_at_ms = self.now_ms();
            self.signal(SIGTERM);
          }
        });
  INFO("stdout:\n" << r.out() << "\nstderr:\n" << r.err());
  REQUIRE(r.exit_code().has_value());
  CHECK(*r.exit_code() == 0);
  CHECK(r.exit_signal() == 0);
  CHECK_FALSE(fs::exists(rt + "/frontend.url"));  // removed on shutdown
  // Start order and the demo notice.
  size_t mock = index_of(r, "qwenproxy: started mock pid=");
  size_t broker = index_of(r, "qwenproxy: started broker pid=");
  size_t demo = index_of(r,
                         "qwenproxy: no Qwen account configured \u2014 DEMO MODE: answers come "
                         "from the built-in mock upstream (mock-qwen) at http://127.0.0.1:");
  size_t worker = index_of(r, "qwenproxy: started worker:demo pid=");
  CHECK(mock < broker);
  CHECK(broker < r.lines().size());
  CHECK(demo < worker);
  CHECK(worker < r.lines().size());
  CHECK(has_line(r, "qwenproxy: started frontend pid="));
  // The restart.
  CHECK(has_line(r, "qwenproxy: broker exited (signal 9) \u2014 restarting in 100 ms"));
  REQUIRE(killed_at_ms.has_value());
  REQUIRE(back_at_ms.has_value());
  CHECK(*back_at_ms - *killed_at_ms < 2000);
  // Shutdown: every child reported gone, none restarted.
  size_t down = index_of(r, "qwenproxy: shutting down");
  REQUIRE(down < r.lines().size());
  for (size_t i = down + 1; i < r.lines().size(); ++i) {
    INFO(r.lines()[i]);
    CHECK(r.lines()[i].find("restarting") == std::string::npos);
    CHECK(r.lines()[i].find("started") == std::string::npos);
  }
  for (const char* name : {"mock", "broker", "frontend", "worker:demo"}) {
    // The broker was SIGTERMed right after its restart, possibly before its
    // stand-in installed its handler: any exit counts, as long as it is reported.
    std::string prefix = std::string("qwenproxy: ") + name + " exited (";
    bool reported = false;
    for (size_t i = down + 1; i < r.lines().size(); ++i)
      reported |= r.lines()[i].rfind(prefix, 0) == 0;
    CHECK(reported);
  }
  // The demo token is never shown; the notify socket is cleaned up.
  CHECK(r.out().find("eyJ") == std::string::npos);
  CHECK(r.err().find("eyJ") == std::string::npos);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(rt, ec)) {
    CHECK(entry.path().filename().string().find(".notify") == std::string::npos);
  }
  CHECK((fs::status(rt).permissions() & fs::perms::all) == fs::perms::owner_all);
}

TEST_CASE("qwenproxy up restarts a killed mock on the same port", "[launcher][e2e]") {
  TempDir tmp;
  std::string bin = make_bin_dir(tmp);
  Run r;
  int mock_starts = 0;
  bool killed = false;
  r.run({"up", "--bin-dir", bin}, {{"QP_RUNTIME_DIR", tmp.path() + "/rt"}},
        [&](Run& self, const std::string& line) {
          if (!killed && has_line(self, "qwenproxy: started worker:demo") &&
              has_line(self, "qwenproxy: ready")) {
            killed = true;
            ::kill(
                *started_pid(self.lines()[index_of(self, "qwenproxy: started mock pid=")], "mock"),
                SIGKILL);
          }
          // The restarted stand-in has bound its port when it prints this.
          if (line.rfind("stand-in mock-qwen port-arg=", 0) == 0 && ++mock_starts == 2) {
            self.signal(SIGTERM);
          }
        });
  INFO("stdout:\n" << r.out() << "\nstderr:\n" << r.err());
  REQUIRE(r.exit_code().has_value());
  CHECK(*r.exit_code() == 0);
  CHECK(has_line(r, "qwenproxy: mock exited (signal 9) \u2014 restarting in 100 ms"));
  CHECK_FALSE(has_line(r, "qwenproxy: mock failed to start"));
  std::vector<std::string> mock_lines;
  for (const auto& l : r.lines()) {
    if (l.rfind("stand-in mock-qwen ", 0) == 0) mock_lines.push_back(l);
  }
  REQUIRE(mock_lines.size() == 2);
  // First start: any port. Restart: the port it had, so the URL printed in
  // the demo notice (and the demo worker's) stays right.
  std::string first_port = mock_lines[0].substr(mock_lines[0].find("listening=") + 10);
  CHECK(mock_lines[0].rfind("stand-in mock-qwen port-arg=0 ", 0) == 0);
  CHECK(mock_lines[1] == "stand-in mock-qwen port-arg=" + first_port + " listening=" + first_port);
  CHECK(has_line(r,
                 "qwenproxy: no Qwen account configured \u2014 DEMO MODE: answers come from "
                 "the built-in mock upstream (mock-qwen) at http://127.0.0.1:" +
                     first_port + ","));
}

TEST_CASE("qwenproxy up with two accounts runs one worker each and no mock", "[launcher][e2e]") {
  TempDir tmp;
  std::string bin = make_bin_dir(tmp);
  std::string config = tmp.path() + "/qp.toml";
  std::ofstream(config) << "[frontend]\nhost = \"127.0.0.1\"\nport = 0\n"
                           "[[accounts]]\nname = \"alice\"\ncookies = \"token=ALICESECRET\"\n"
                           "[[accounts]]\nname = \"bob\"\ncookies = \"token=BOBSECRET\"\n";
  Run r;
  r.run({"up", "--config", config, "--bin-dir", bin},
        {{"QP_RUNTIME_DIR", tmp.path() + "/rt"}, {"QWEN_COOKIES", "token=ENVSECRET"}},
        [](Run& self, const std::string& line) {
          if (ready_port(line)) self.signal(SIGINT);
        });
  INFO("stdout:\n" << r.out() << "\nstderr:\n" << r.err());
  REQUIRE(r.exit_code().has_value());
  CHECK(*r.exit_code() == 0);
  CHECK(has_line(r, "qwenproxy: started worker:alice pid="));
  CHECK(has_line(r, "qwenproxy: started worker:bob pid="));
  CHECK(has_line(r, "qwenproxy: started worker:default pid="));  // from QWEN_COOKIES
  CHECK_FALSE(has_line(r, "qwenproxy: started mock"));
  CHECK(r.out().find("DEMO MODE") == std::string::npos);
  for (const char* secret : {"ALICESECRET", "BOBSECRET", "ENVSECRET"}) {
    CHECK(r.out().find(secret) == std::string::npos);
    CHECK(r.err().find(secret) == std::string::npos);
  }
}

TEST_CASE("qwenproxy up with the demo flag uses the mock even with an account", "[launcher][e2e]") {
  TempDir tmp;
  std::string bin = make_bin_dir(tmp);
  Run r;
  r.run(
      {"up", "--demo", "--bin-dir", bin},
      {{"QP_RUNTIME_DIR", tmp.path() + "/rt"}, {"QWEN_COOKIES", "token=x"}},
      [](Run& self, const std::string& line) {
        // Wait for both the ready line and the demo worker, in either order.
        if (ready_port(line) || line.rfind("qwenproxy: started worker:", 0) == 0) {
          if (has_line(self, "qwenproxy: started worker:") && has_line(self, "qwenproxy: ready")) {
            self.signal(SIGTERM);
          }
        }
      });
  REQUIRE(r.exit_code().has_value());
  CHECK(*r.exit_code() == 0);
  CHECK(has_line(r, "qwenproxy: --demo given \u2014 DEMO MODE:"));
  CHECK(has_line(r, "qwenproxy: started worker:demo pid="));
  CHECK_FALSE(has_line(r, "qwenproxy: started worker:default"));
}

TEST_CASE("qwenproxy up start-up errors exit 2 with a clear message", "[launcher][e2e]") {
  TempDir tmp;
  std::map<std::string, std::string> env = {{"QP_RUNTIME_DIR", tmp.path() + "/rt"}};
  auto no_script = [](Run&, const std::string&) {};

  SECTION("a missing binary") {
    std::string bin = make_bin_dir(tmp, {"qp-broker", "qp-worker", "mock-qwen"});
    Run r;
    r.run({"up", "--bin-dir", bin}, env, no_script);
    REQUIRE(r.exit_code().has_value());
    CHECK(*r.exit_code() == 2);
    CHECK(r.err().find("cannot find the executable 'qp-frontend' in " + bin) != std::string::npos);
    CHECK(r.err().find("--bin-dir") != std::string::npos);
    CHECK(r.lines().empty());
  }
  SECTION("an unreadable config file") {
    std::string bin = make_bin_dir(tmp);
    Run r;
    r.run({"up", "--config", tmp.path() + "/missing.toml", "--bin-dir", bin}, env, no_script);
    REQUIRE(r.exit_code().has_value());
    CHECK(*r.exit_code() == 2);
    CHECK(r.err().find("missing.toml") != std::string::npos);
  }
  SECTION("an invalid config file, without echoing secrets") {
    std::string bin = make_bin_dir(tmp);
    std::string config = tmp.path() + "/bad.toml";
    std::ofstream(config)
        << "[[accounts]]\nname = \"bad name\"\ncookies = \"token=SECRETCOOKIE\"\n";
    Run r;
    r.run({"up", "--config", config, "--bin-dir", bin}, env, no_script);
    REQUIRE(r.exit_code().has_value());
    CHECK(*r.exit_code() == 2);
    CHECK(r.err().find("qwenproxy: config:") != std::string::npos);
    CHECK(r.err().find("SECRETCOOKIE") == std::string::npos);
  }
  SECTION("a TOML syntax error") {
    std::string bin = make_bin_dir(tmp);
    std::string config = tmp.path() + "/syntax.toml";
    std::ofstream(config) << "[frontend\nport = 1\n";
    Run r;
    r.run({"up", "--config", config, "--bin-dir", bin}, env, no_script);
    REQUIRE(r.exit_code().has_value());
    CHECK(*r.exit_code() == 2);
  }
  SECTION("a frontend port held by another process: named, never killed") {
    int holder = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(holder >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(holder, 1) == 0);
    socklen_t len = sizeof a;
    ::getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len);
    std::string port = std::to_string(ntohs(a.sin_port));
    std::string bin = make_bin_dir(tmp);
    auto busy_env = env;
    busy_env["QP_PORT"] = port;
    Run r;
    r.run({"up", "--bin-dir", bin}, busy_env, no_script);
    REQUIRE(r.exit_code().has_value());
    CHECK(*r.exit_code() == 2);
    CHECK(r.err().find("port " + port + " on 127.0.0.1 is already in use") != std::string::npos);
    // The holder is named when /proc tells: here, this test process.
    CHECK(r.err().find("in use by pid " + std::to_string(::getpid()) + " (") != std::string::npos);
    int err = 0;
    socklen_t elen = sizeof err;
    CHECK(::getsockopt(holder, SOL_SOCKET, SO_ERROR, &err, &elen) == 0);  // still ours, still open
    ::close(holder);
  }
  SECTION("a usage error") {
    Run r;
    r.run({"up", "--no-such-flag"}, env, no_script);
    REQUIRE(r.exit_code().has_value());
    CHECK(*r.exit_code() == 2);
  }
  SECTION("no subcommand") {
    Run r;
    r.run({}, env, no_script);
    REQUIRE(r.exit_code().has_value());
    CHECK(*r.exit_code() == 2);
  }
}

TEST_CASE("qwenproxy version prints the version", "[launcher][e2e]") {
  Run r;
  r.run({"version"}, {}, [](Run&, const std::string&) {});
  REQUIRE(r.exit_code().has_value());
  CHECK(*r.exit_code() == 0);
  REQUIRE(r.lines().size() == 1);
  CHECK(is_version(r.lines()[0]));
}

}  // namespace
