// mock-qwen: a faithful twin of chat.qwen.ai for tests and benchmarks.
//   mock-qwen [--host H] [--port P] [--jwt-secret S] [--token-delay-ms N] …
//   mock-qwen mint-token --user U [--secret S] [--ttl-s N]
//   mock-qwen --replay FILE [--replay-speed X]   serves a recording (replay.h)
// Prints "mock-qwen listening on http://HOST:PORT" once listening, then sends
// READY=1 + QP_PORT to the service manager. SIGINT/SIGTERM: clean exit 0.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <uv.h>

#include "common/log.h"
#include "common/notify.h"
#include "common/uv/handle.h"
#include "tools/mock-qwen/jwt.h"
#include "tools/mock-qwen/mock_server.h"
#include "tools/mock-qwen/replay.h"

namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Benchmarks hold 10,000+ connections: lift the soft fd limit to the hard one.
void raise_fd_limit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

struct SignalContext {
  std::function<void()> close;
  uv_signal_t* sigint = nullptr;
  uv_signal_t* sigterm = nullptr;
};

void on_signal(uv_signal_t* handle, int signum) {
  auto* ctx = static_cast<SignalContext*>(handle->data);
  if (ctx == nullptr) return;
  try {
    QP_INFO("mock.stopping").kv("signal", signum);
    qp::notify::stopping();
    ctx->close();
  } catch (...) {
    // Nothing may escape into libuv; the loop still ends below.
  }
  uv_signal_stop(ctx->sigint);
  uv_signal_stop(ctx->sigterm);
}

// Runs the server until SIGINT/SIGTERM; prints the listening line and
// notifies readiness like the simulated site does.
template <typename Server>
int serve(uv_loop_t* loop, Server& server, const std::string& host) {
  qp::Status st = server.listen();
  if (!st.ok()) {
    std::fprintf(stderr, "mock-qwen: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("mock-qwen listening on http://%s:%d\n", host.c_str(), server.port());
  std::fflush(stdout);
  QP_INFO("mock.listening").kv("host", host).kv("port", server.port());
  qp::notify::ready("listening", server.port());
  qp::uv::Signal sigint, sigterm;
  SignalContext ctx{[&server] { server.close(); }, sigint.get(), sigterm.get()};
  uv_signal_init(loop, sigint.get());
  uv_signal_init(loop, sigterm.get());
  sigint.get()->data = &ctx;
  sigterm.get()->data = &ctx;
  uv_signal_start(sigint.get(), on_signal, SIGINT);
  uv_signal_start(sigterm.get(), on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}

int run_replay(const std::string& file, const std::string& host, int port, double speed) {
  std::string text;
  if (!read_file(file, &text)) {
    std::fprintf(stderr, "mock-qwen: cannot read recording %s\n", file.c_str());
    return 2;
  }
  auto log = qp::mock::ReplayLog::parse(text);
  if (!log.has_value()) {
    std::fprintf(stderr, "mock-qwen: %s: %s\n", file.c_str(), log.error().message().c_str());
    return 2;
  }
  QP_INFO("replay.loaded").kv("file", file).kv("exchanges", static_cast<uint64_t>(log->size()));
  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    qp::mock::ReplayServer server(&loop, {host, port, speed}, std::move(log.value()));
    exit_code = serve(&loop, server, host);
    server.close();
  }
  qp::uv::close_loop(&loop);
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mock-qwen: a faithful twin of chat.qwen.ai for tests and benchmarks"};
  app.require_subcommand(0, 1);

  qp::mock::MockOptions opts;
  std::string rules_file, users_file;
  app.add_option("--host", opts.host, "Address to bind")->capture_default_str();
  app.add_option("--port", opts.port, "Port to bind (0 = any free port)")->capture_default_str();
  app.add_option("--jwt-secret", opts.jwt_secret, "HS256 secret for issued/accepted tokens")
      ->envname("MOCK_QWEN_JWT_SECRET")  // keeps it off the command line
      ->capture_default_str();
  app.add_option("--token-delay-ms", opts.config.token_delay_ms, "Delay between stream events")
      ->capture_default_str();
  app.add_option("--first-token-delay-ms", opts.config.first_token_delay_ms,
                 "Delay between response.created and the first content event")
      ->capture_default_str();
  app.add_option("--chats-new-delay-ms", opts.config.chats_new_delay_ms,
                 "Delay before answering POST /api/v2/chats/new")
      ->capture_default_str();
  app.add_option("--chunk-bytes", opts.config.chunk_bytes,
                 "Write each SSE event in pieces of this many bytes (0 = whole events)")
      ->capture_default_str();
  app.add_flag("--emit-done", opts.config.emit_done, "Send data: [DONE] after finished");
  app.add_flag("--variant-2026", opts.config.variant_2026,
               "2026 event fields (response_id, timestamp) and response.info keep-alives");
  app.add_option("--max-chats", opts.max_chats, "Chats kept in memory before eviction")
      ->capture_default_str();
  app.add_option("--rules", rules_file, "Answer rules file (JSON), see docs/mock-qwen.md");
  app.add_option("--users", users_file, "Sign-in users file (JSON), see docs/mock-qwen.md");
  std::string replay_file;
  double replay_speed = 0;
  app.add_option("--replay", replay_file,
                 "Serve this recording (docs/recording.md) instead of the simulated site");
  app.add_option("--replay-speed", replay_speed,
                 "Replay timing: 0 = events at once, 1 = as recorded, 2 = twice as fast")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  auto* mint = app.add_subcommand("mint-token", "Print a JWT accepted by the mock");
  std::string mint_user, mint_secret = "mock-secret";
  int64_t mint_ttl_s = 7 * 24 * 3600;
  mint->add_option("--user", mint_user, "User id (the JWT \"id\" claim)")->required();
  mint->add_option("--secret", mint_secret, "HS256 secret")->capture_default_str();
  mint->add_option("--ttl-s", mint_ttl_s, "Lifetime in seconds (negative = already expired)")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (*mint) {
    int64_t exp = static_cast<int64_t>(std::time(nullptr)) + mint_ttl_s;
    std::printf("%s\n", qp::mock::mint_jwt(mint_secret, mint_user, exp).c_str());
    return 0;
  }

  qp::log::init("mock-qwen");
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  if (!rules_file.empty()) {
    std::string text;
    if (!read_file(rules_file, &text)) {
      std::fprintf(stderr, "mock-qwen: cannot read rules file %s\n", rules_file.c_str());
      return 2;
    }
    auto rules = qp::mock::AnswerScript::parse(text);
    if (!rules.has_value()) {
      std::fprintf(stderr, "mock-qwen: %s: %s\n", rules_file.c_str(),
                   rules.error().message().c_str());
      return 2;
    }
    opts.rules = std::move(rules.value());
  }
  if (!users_file.empty()) {
    std::string text;
    if (!read_file(users_file, &text)) {
      std::fprintf(stderr, "mock-qwen: cannot read users file %s\n", users_file.c_str());
      return 2;
    }
    auto users = qp::mock::UserDb::parse(text);
    if (!users.has_value()) {
      std::fprintf(stderr, "mock-qwen: %s: %s\n", users_file.c_str(),
                   users.error().message().c_str());
      return 2;
    }
    opts.users = std::move(users.value());
  }

  if (!replay_file.empty()) return run_replay(replay_file, opts.host, opts.port, replay_speed);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    std::string host = opts.host;
    qp::mock::MockServer server(&loop, std::move(opts));
    exit_code = serve(&loop, server, host);
    server.close();
  }
  qp::uv::close_loop(&loop);
  return exit_code;
}
