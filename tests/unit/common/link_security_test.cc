// The rule for tcp:// links (common/zmq/link_security.h): CurveZMQ, or
// plain TCP only when allowed and on a loopback address.
#include "common/zmq/link_security.h"

#include <catch2/catch.hpp>

using qp::zmqx::KeySetting;
using qp::zmqx::plan_link;

namespace {
const std::vector<KeySetting> kNoKeys = {{"worker.curve_secret_key_file", ""},
                                         {"broker.curve_public_key_file", ""}};
const std::vector<KeySetting> kKeys = {{"worker.curve_secret_key_file", "/k/w.key"},
                                       {"broker.curve_public_key_file", "/k/broker.pub"}};
}  // namespace

TEST_CASE("link security: loopback addresses") {
  using qp::zmqx::is_loopback_tcp;
  CHECK(is_loopback_tcp("tcp://127.0.0.1:5555"));
  CHECK(is_loopback_tcp("tcp://127.1.2.3:*"));
  CHECK(is_loopback_tcp("tcp://[::1]:5555"));
  CHECK(is_loopback_tcp("tcp://localhost:5555"));
  CHECK(is_loopback_tcp("tcp://lo:5555"));
  CHECK(is_loopback_tcp("tcp://10.0.0.2;127.0.0.1:5555"));  // source;destination
  CHECK_FALSE(is_loopback_tcp("tcp://*:5555"));
  CHECK_FALSE(is_loopback_tcp("tcp://0.0.0.0:5555"));
  CHECK_FALSE(is_loopback_tcp("tcp://10.0.0.1:5555"));
  CHECK_FALSE(is_loopback_tcp("tcp://128.0.0.1:5555"));
  CHECK_FALSE(is_loopback_tcp("tcp://[::]:5555"));
  CHECK_FALSE(is_loopback_tcp("tcp://127.0.0.1.example.com:5555"));
  CHECK_FALSE(is_loopback_tcp("tcp://127.0.0.1;10.0.0.1:5555"));
  CHECK_FALSE(is_loopback_tcp("ipc:///run/x.sock"));
}

TEST_CASE("link security: ipc and inproc are local, never curve") {
  for (const char* ep : {"ipc:///run/qwenproxy/broker-workers.sock", "inproc://x"}) {
    auto p = plan_link(ep, "broker.worker_endpoint", kKeys, false);
    REQUIRE(p.has_value());
    CHECK_FALSE(p->tcp);
    CHECK_FALSE(p->curve);
  }
}

TEST_CASE("link security: tcp with all keys is curve, on any address") {
  for (bool allow : {false, true}) {
    for (const char* ep : {"tcp://10.0.0.1:5555", "tcp://127.0.0.1:5555"}) {
      auto p = plan_link(ep, "broker.worker_endpoint", kKeys, allow);
      REQUIRE(p.has_value());
      CHECK(p->tcp);
      CHECK(p->curve);
    }
  }
}

TEST_CASE("link security: plain tcp is refused unless allowed and loopback") {
  auto refused = plan_link("tcp://10.0.0.1:5555", "broker.worker_endpoint", kNoKeys, false);
  REQUIRE_FALSE(refused.has_value());
  const std::string m = refused.error().message();
  CHECK(m.find("broker.worker_endpoint = tcp://10.0.0.1:5555") != std::string::npos);
  CHECK(m.find("plain TCP is refused") != std::string::npos);
  CHECK(m.find("worker.curve_secret_key_file and broker.curve_public_key_file") !=
        std::string::npos);

  CHECK_FALSE(plan_link("tcp://127.0.0.1:5555", "e", kNoKeys, false).has_value());
  auto remote = plan_link("tcp://10.0.0.1:5555", "e", kNoKeys, true);
  REQUIRE_FALSE(remote.has_value());
  CHECK(remote.error().message().find("loopback addresses only") != std::string::npos);
  CHECK_FALSE(plan_link("tcp://*:5555", "e", kNoKeys, true).has_value());

  auto local = plan_link("tcp://127.0.0.1:*", "e", kNoKeys, true);
  REQUIRE(local.has_value());
  CHECK(local->tcp);
  CHECK_FALSE(local->curve);
}

TEST_CASE("link security: half a key configuration names what is missing") {
  const std::vector<KeySetting> half = {{"worker.curve_secret_key_file", "/k/w.key"},
                                        {"broker.curve_public_key_file", ""}};
  for (bool allow : {false, true}) {
    auto p = plan_link("tcp://127.0.0.1:5555", "broker.worker_endpoint", half, allow);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().message().find("needs broker.curve_public_key_file too") != std::string::npos);
  }
}

TEST_CASE("link security: heartbeat and reconnect settings with their defaults") {
  qp::BrokerConfig c;
  c.heartbeat_ms = 200;
  auto t = qp::zmqx::link_timing(c);
  CHECK(t.heartbeat_ms == 100);
  CHECK(t.timeout_ms == 200);
  CHECK(t.reconnect_ivl_ms == 100);
  CHECK(t.reconnect_ivl_max_ms == 5000);
  c.link_heartbeat_ms = 50;
  c.link_timeout_ms = 400;
  c.reconnect_ivl_ms = 20;
  c.reconnect_ivl_max_ms = 300;
  t = qp::zmqx::link_timing(c);
  CHECK(t.heartbeat_ms == 50);
  CHECK(t.timeout_ms == 400);
  CHECK(t.reconnect_ivl_ms == 20);
  CHECK(t.reconnect_ivl_max_ms == 300);
}
