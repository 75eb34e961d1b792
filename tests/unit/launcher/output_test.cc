#include "tools/launcher/output.h"

#include <catch2/catch.hpp>

namespace qp::launcher {
namespace {

TEST_CASE("launcher lines have the documented format", "[launcher][output]") {
  CHECK(started_line("worker:alice", 1234) == "qwenproxy: started worker:alice pid=1234\n");
  CHECK(exited_line("broker", ExitInfo{3, 0}, 100) ==
        "qwenproxy: broker exited (code 3) \u2014 restarting in 100 ms\n");
  CHECK(exited_line("mock", ExitInfo{0, 9}, 10000) ==
        "qwenproxy: mock exited (signal 9) \u2014 restarting in 10000 ms\n");
  CHECK(exited_line("frontend", ExitInfo{0, 0}, std::nullopt) ==
        "qwenproxy: frontend exited (code 0)\n");
  CHECK(spawn_failed_line("broker", "ENOENT: no such file or directory", 200) ==
        "qwenproxy: broker failed to start (ENOENT: no such file or directory) \u2014 "
        "restarting in 200 ms\n");
  CHECK(watchdog_line("worker:a", 77) ==
        "qwenproxy: worker:a missed its watchdog \u2014 killing pid=77\n");
  CHECK(shutting_down_line() == "qwenproxy: shutting down\n");
}

TEST_CASE("ready line names the API and health URLs", "[launcher][output]") {
  CHECK(ready_line("127.0.0.1", 8080) ==
        "qwenproxy: ready \u2014 OpenAI API at http://127.0.0.1:8080/v1 "
        "(health: http://127.0.0.1:8080/health)\n");
  SECTION("IPv6 literals are bracketed") {
    CHECK(http_origin("::1", 80) == "http://[::1]:80");
    CHECK(http_origin("[::1]", 80) == "http://[::1]:80");
  }
  CHECK(http_origin("localhost", 1) == "http://localhost:1");
  CHECK(http_origin("", 1) == "http://:1");
}

TEST_CASE("demo line says plainly where answers come from", "[launcher][output]") {
  std::string line = demo_line(4321, false);
  CHECK(line ==
        "qwenproxy: no Qwen account configured \u2014 DEMO MODE: answers come from the built-in "
        "mock upstream (mock-qwen) at http://127.0.0.1:4321, not from chat.qwen.ai. Add an "
        "account to use real Qwen (see README).\n");
  std::string forced = demo_line(4321, true);
  CHECK(forced.rfind("qwenproxy: --demo given \u2014 DEMO MODE:", 0) == 0);
  CHECK(forced.find("http://127.0.0.1:4321") != std::string::npos);
}

}  // namespace
}  // namespace qp::launcher
