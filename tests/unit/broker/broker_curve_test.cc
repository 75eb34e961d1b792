// The broker's tcp:// sockets under CurveZMQ (broker/zap_handler.h): a
// worker with an authorised key registers; one with an unknown key, or none,
// never reaches the broker; plain tcp to another address is refused at start.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "broker_harness.h"
#include "common/zmq/curve_keys.h"

using namespace qp::broker::test_support;  // NOLINT: the harness's vocabulary

namespace {

struct CurveSetup {
  std::string dir;
  qp::zmqx::CurveKeypair broker;
  qp::zmqx::CurveKeypair worker;
  qp::zmqx::CurveKeypair stranger;

  CurveSetup() {
    char tmpl[] = "/tmp/qp-broker-curve-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    REQUIRE(::mkdir((dir + "/authorized").c_str(), 0700) == 0);
    for (auto* k : {&broker, &worker, &stranger}) {
      auto g = qp::zmqx::generate_curve_keypair();
      REQUIRE(g.has_value());
      *k = *g;
    }
    std::ofstream(dir + "/broker.key") << qp::zmqx::secret_key_file_text("broker", broker);
    REQUIRE(::chmod((dir + "/broker.key").c_str(), 0600) == 0);
    std::ofstream(dir + "/authorized/w1.pub") << qp::zmqx::public_key_file_text("w1", worker);
  }
  ~CurveSetup() { std::system(("rm -rf '" + dir + "'").c_str()); }

  qp::BrokerConfig config() const {
    qp::BrokerConfig c = test_config();
    c.allow_plaintext_tcp = false;
    c.curve_secret_key_file = dir + "/broker.key";
    c.authorized_keys_dir = dir + "/authorized";
    return c;
  }
  std::function<void(zmq::socket_t&)> client(const qp::zmqx::CurveKeypair& own) const {
    return [own, server = broker.public_key](zmq::socket_t& s) {
      s.set(zmq::sockopt::curve_serverkey, server);
      s.set(zmq::sockopt::curve_publickey, own.public_key);
      s.set(zmq::sockopt::curve_secretkey, own.secret_key);
    };
  }
};

}  // namespace

TEST_CASE("broker curve: only a worker with an authorised key registers") {
  CurveSetup keys;
  Harness h(keys.config());
  Peer& stranger = h.worker("w-stranger", keys.client(keys.stranger));
  stranger.send(Command::kReady, {}, protocol::encode(worker_status("mallory", 1)));
  Peer& plain = h.worker("w-plain");
  plain.send(Command::kReady, {}, protocol::encode(worker_status("eve", 1)));
  Peer& good = h.worker("w-good", keys.client(keys.worker));
  good.send(Command::kReady, {}, protocol::encode(worker_status("alice", 1)));
  REQUIRE(h.run_until([&] { return h.broker().workers_for_test() >= 1; }));
  // The refused handshakes end before the authorised one is done or soon
  // after; give them the same time and check nobody else got in.
  h.run_until([] { return false; }, 300);
  CHECK(h.broker().workers_for_test() == 1);
  CHECK(h.worker_entry("w-good") != nullptr);
  CHECK(h.worker_entry("w-stranger") == nullptr);
  CHECK(h.worker_entry("w-plain") == nullptr);
}

TEST_CASE("broker curve: a key added to the directory lets that peer in, without a restart") {
  CurveSetup keys;
  Harness h(keys.config());
  Peer& stranger = h.worker("w-later", keys.client(keys.stranger));
  stranger.send(Command::kReady, {}, protocol::encode(worker_status("carol", 1)));
  h.run_until([] { return false; }, 300);
  REQUIRE(h.broker().workers_for_test() == 0);
  // Authorise it (the directory changes). A refused client does not retry
  // by itself (libzmq ends the session); the worker's own reconnect, here a
  // new socket, is admitted.
  std::ofstream(keys.dir + "/authorized/carol.pub")
      << qp::zmqx::public_key_file_text("carol", keys.stranger);
  Peer& again = h.worker("w-later-2", keys.client(keys.stranger));
  again.send(Command::kReady, {}, protocol::encode(worker_status("carol", 1)));
  REQUIRE(h.run_until([&] { return h.worker_entry("w-later-2") != nullptr; }));
}

TEST_CASE("broker curve: start fails clearly without keys or with an unsafe key file") {
  CurveSetup keys;
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    zmq::context_t ctx;
    qp::BrokerConfig plain = test_config();
    plain.allow_plaintext_tcp = false;
    Broker b1(&loop, ctx, plain, kInstance);
    auto s1 = b1.start();
    REQUIRE_FALSE(s1.ok());
    CHECK(s1.message().find("plain TCP is refused") != std::string::npos);
    b1.stop();

    REQUIRE(::chmod((keys.dir + "/broker.key").c_str(), 0640) == 0);
    Broker b2(&loop, ctx, keys.config(), kInstance);
    auto s2 = b2.start();
    REQUIRE_FALSE(s2.ok());
    CHECK(s2.message().find("chmod 600") != std::string::npos);
    b2.stop();

    REQUIRE(::chmod((keys.dir + "/broker.key").c_str(), 0600) == 0);
    qp::BrokerConfig no_dir = keys.config();
    no_dir.authorized_keys_dir.clear();
    Broker b3(&loop, ctx, no_dir, kInstance);
    auto s3 = b3.start();
    REQUIRE_FALSE(s3.ok());
    CHECK(s3.message().find("broker.authorized_keys_dir") != std::string::npos);
    b3.stop();
  }
  CHECK(qp::uv::close_loop(&loop) == 0);
}
