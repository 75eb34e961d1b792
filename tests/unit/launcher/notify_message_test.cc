#include "tools/launcher/notify_message.h"

#include <catch2/catch.hpp>

namespace qp::launcher {
namespace {

using namespace std::string_view_literals;

TEST_CASE("notify parses what qp::notify::ready sends", "[launcher][notify]") {
  auto m = parse_notify_message("READY=1\nSTATUS=listening on 127.0.0.1\nQP_PORT=8080");
  REQUIRE(m.has_value());
  CHECK(m->ready);
  CHECK_FALSE(m->watchdog);
  CHECK_FALSE(m->stopping);
  REQUIRE(m->status.has_value());
  CHECK(*m->status == "listening on 127.0.0.1");
  CHECK(m->port == 8080);
}

TEST_CASE("notify parses single-key messages", "[launcher][notify]") {
  SECTION("watchdog") {
    auto m = parse_notify_message("WATCHDOG=1");
    REQUIRE(m.has_value());
    CHECK(m->watchdog);
    CHECK_FALSE(m->ready);
    CHECK(m->port == 0);
  }
  SECTION("stopping") {
    auto m = parse_notify_message("STOPPING=1\n");
    REQUIRE(m.has_value());
    CHECK(m->stopping);
  }
  SECTION("status keeps '=' and spaces in the value") {
    auto m = parse_notify_message("STATUS=a=b c");
    REQUIRE(m.has_value());
    CHECK(*m->status == "a=b c");
    CHECK_FALSE(m->ready);
  }
  SECTION("empty status") {
    auto m = parse_notify_message("STATUS=");
    REQUIRE(m.has_value());
    CHECK(m->status == std::string());
  }
  SECTION("ready without a port") {
    auto m = parse_notify_message("READY=1");
    REQUIRE(m.has_value());
    CHECK(m->ready);
    CHECK(m->port == 0);
    CHECK_FALSE(m->status.has_value());
  }
}

TEST_CASE("notify ignores unknown keys and empty lines", "[launcher][notify]") {
  auto m = parse_notify_message("\nMAINPID=42\nREADY=1\n\nERRNO=2\nX_CUSTOM=y\n");
  REQUIRE(m.has_value());
  CHECK(m->ready);
}

TEST_CASE("notify READY with a value other than 1 is not ready", "[launcher][notify]") {
  auto m = parse_notify_message("READY=0");
  REQUIRE(m.has_value());
  CHECK_FALSE(m->ready);
}

TEST_CASE("notify accepts the port range edges", "[launcher][notify]") {
  CHECK(parse_notify_message("QP_PORT=1")->port == 1);
  CHECK(parse_notify_message("QP_PORT=65535")->port == 65535);
}

TEST_CASE("notify rejects garbage", "[launcher][notify]") {
  const std::string_view bad[] = {
      ""sv,
      "\n\n"sv,
      "READY"sv,
      "READY=1\ngarbage"sv,
      "=1"sv,
      "RE ADY=1"sv,
      "READY=1\0QP_PORT=1"sv,
      "QP_PORT=0"sv,
      "QP_PORT=65536"sv,
      "QP_PORT=-1"sv,
      "QP_PORT=80a"sv,
      "QP_PORT="sv,
      "QP_PORT=000000080"sv,
      "QP_PORT=99999999999999999999"sv,
      "\xff\xfe=1"sv,
  };
  for (auto text : bad) {
    INFO("input: " << std::string(text));
    auto m = parse_notify_message(text);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().code() == Code::kProtocol);
  }
}

}  // namespace
}  // namespace qp::launcher
