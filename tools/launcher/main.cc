// qwenproxy: the command-line entry point (`qwenproxy up`, `record`, `version`, …).
#include <csignal>
#include <cstdio>
#include <exception>

#include "common/log.h"
#include "tools/launcher/cli.h"

int main(int argc, char** argv) {
  // A closed stdout pipe must not kill the supervisor; children get default
  // dispositions back from uv_spawn.
  std::signal(SIGPIPE, SIG_IGN);
  qp::log::init("launcher");
  try {
    return qp::launcher::run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qwenproxy: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "qwenproxy: fatal: unknown exception\n");
  }
  return 1;
}
