#include "common/zmq/envelope.h"

#include <catch2/catch.hpp>

using namespace qp;
using namespace qp::zmqx;
using protocol::Command;

TEST_CASE("envelope round-trips with and without routing id", "[protocol]") {
  auto f = make_frames(Command::kChunk, "req-7", "body");
  auto e = Envelope::parse(std::move(f), false);
  REQUIRE(e.has_value());
  CHECK(e->command() == Command::kChunk);
  CHECK(e->request_id() == "req-7");
  CHECK(e->body() == "body");
  CHECK(e->routing_id().empty());

  auto r = Envelope::parse(make_frames(Command::kJob, "x", "b", "peer-1"), true);
  REQUIRE(r.has_value());
  CHECK(r->routing_id() == "peer-1");
  CHECK(r->command() == Command::kJob);
}

TEST_CASE("envelope carries frames after the body (ROUTE, RESUME, SESSION)", "[protocol]") {
  auto e =
      Envelope::parse(make_frames(Command::kJob, "x", "body", {"route", "resume"}, "peer"), true);
  REQUIRE(e.has_value());
  CHECK(e->body() == "body");
  REQUIRE(e->extra_count() == 2);
  CHECK(e->extra(0) == "route");
  CHECK(e->extra(1) == "resume");
  auto plain = Envelope::parse(make_frames(Command::kChunk, "x", "b"), false);
  REQUIRE(plain.has_value());
  CHECK(plain->extra_count() == 0);
  // More than kMaxExtraFrames after the body is malformed.
  auto f = make_frames(Command::kJob, "x", "b", {"1", "2"});
  f.emplace_back("3", 1);
  CHECK(Envelope::parse(std::move(f), false).error().code() == Code::kProtocol);
}

TEST_CASE("envelope rejects malformed frames", "[protocol]") {
  SECTION("wrong count") {
    Frames f;
    f.emplace_back("QP01", 4);
    CHECK(Envelope::parse(std::move(f), false).error().code() == Code::kProtocol);
  }
  SECTION("wrong version") {
    auto f = make_frames(Command::kJob, "x", "b");
    f[0] = zmq::message_t("QP02", 4);
    CHECK_FALSE(Envelope::parse(std::move(f), false).has_value());
  }
  SECTION("unknown command") {
    auto f = make_frames(Command::kJob, "x", "b");
    uint8_t bad = 200;
    f[1] = zmq::message_t(&bad, 1);
    CHECK_FALSE(Envelope::parse(std::move(f), false).has_value());
  }
  SECTION("command frame not one byte") {
    auto f = make_frames(Command::kJob, "x", "b");
    f[1] = zmq::message_t("ab", 2);
    CHECK_FALSE(Envelope::parse(std::move(f), false).has_value());
  }
}
