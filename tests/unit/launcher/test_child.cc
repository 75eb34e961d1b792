// Stand-in child process for the launcher tests. Behaviour is chosen by the
// name it is run as (argv[0]'s basename) or, as launcher_test_child, by argv[1]:
//
//   launcher_test_child ready PORT     READY=1 (QP_PORT=PORT if > 0), then wait;
//                                      SIGTERM → exit 0, SIGHUP → STATUS=hup
//   launcher_test_child exit CODE      exit CODE at once
//   launcher_test_child ignore-term    READY=1, then ignore SIGTERM forever
//   launcher_test_child watchdog-once  READY=1 + WATCHDOG=1 once, then silent
//   launcher_test_child env NAME...    STATUS="NAME=value " or "NAME! " per name,
//                                      then like `ready 0`
//   qp-broker / qp-worker              like `ready 0`
//   qp-frontend / mock-qwen            like `ready P`, P a real bound loopback
//                                      port (mock-qwen: --port P if non-zero;
//                                      it prints "stand-in mock-qwen port-arg=A
//                                      listening=P" on stdout first)
//
// Waiting is sigwait(), never sleep. Uses libsystemd's sd_notify like the
// real children (through NOTIFY_SOCKET).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int bound_port(int wanted) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(wanted));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::exit(3);
  ::listen(fd, 1);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);  // fd stays open: the port stays ours
}

[[noreturn]] void serve(int port, bool ignore_term) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  std::string msg = "READY=1\nSTATUS=standing in";
  if (port > 0) msg += "\nQP_PORT=" + std::to_string(port);
  sd_notify(0, msg.c_str());
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      sd_notify(0, "STATUS=hup");
    } else if (!ignore_term) {
      std::exit(0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* slash = std::strrchr(argv[0], '/');
  std::string self = slash != nullptr ? slash + 1 : argv[0];
  if (self == "qp-broker" || self == "qp-worker") serve(0, false);
  if (self == "qp-frontend") serve(bound_port(0), false);
  if (self == "mock-qwen") {
    int port = 0;
    for (int i = 1; i + 1 < argc; ++i) {
      if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    }
    int bound = bound_port(port);
    // Lets the qwenproxy test see which --port the launcher asked for.
    std::printf("stand-in mock-qwen port-arg=%d listening=%d\n", port, bound);
    std::fflush(stdout);
    serve(bound, false);
  }
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "ready" && argc > 2) serve(std::atoi(argv[2]), false);
  if (mode == "exit" && argc > 2) return std::atoi(argv[2]);
  if (mode == "ignore-term") serve(0, true);
  if (mode == "watchdog-once") {
    sd_notify(0, "WATCHDOG=1");
    serve(0, false);
  }
  if (mode == "env") {
    std::string msg = "STATUS=";
    for (int i = 2; i < argc; ++i) {
      const char* v = std::getenv(argv[i]);
      msg += argv[i];
      msg += v != nullptr ? std::string("=") + v : std::string("!");
      msg += ' ';
    }
    sd_notify(0, msg.c_str());
    serve(0, false);
  }
  return 64;
}
