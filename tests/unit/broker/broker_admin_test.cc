// ADMIN (drain / resume / reload) and pinned jobs through the real Broker.
#include <filesystem>
#include <fstream>

#include "broker_harness.h"

using namespace qp::broker::test_support;  // NOLINT: the harness's vocabulary

namespace {

std::string pinned_job(const std::string& rid, const std::string& account) {
  protocol::JobRequest r;
  r.request_id = rid;
  r.model = "qwen3-max";
  r.messages.push_back({"user", "hello", "", "", ""});
  r.pin_account = account;
  return protocol::encode(r);
}

std::string admin(const std::string& action, const std::string& account) {
  return protocol::encode(protocol::AdminCommand{action, account});
}

}  // namespace

TEST_CASE("ADMIN drain and resume steer chat jobs; pinned jobs reach their account",
          "[broker][io][admin]") {
  auto dir =
      std::filesystem::temp_directory_path() / ("qp-broker-admin-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "drained-accounts").string();
  std::filesystem::remove(file);
  {
    Harness h;
    h.broker().set_drain_file(file);
    Peer& wa = h.ready_worker("worker-a", worker_status("alice", 4));
    Peer& wb = h.ready_worker("worker-b", worker_status("bob", 4));
    Peer& fe = h.frontend();
    fe.send(Command::kAdmin, {}, admin("drain", "alice"));
    h.run_until([&] { return h.broker().registry_for_test().draining("alice"); }, kDeadlineMs);
    REQUIRE(h.broker().registry_for_test().draining("alice"));
    for (int i = 0; i < 3; ++i) {
      std::string rid = "d" + std::to_string(i);
      fe.send(Command::kJob, rid, job_body(rid));
      auto j = h.recv(wb, Command::kJob);
      REQUIRE(j);
      CHECK(j->request_id == rid);
    }
    // Pinned to the drained account: still goes there.
    fe.send(Command::kJob, "p1", pinned_job("p1", "alice"));
    auto p = h.recv(wa, Command::kJob);
    REQUIRE(p);
    CHECK(p->request_id == "p1");
    // Pinned to an account without a worker: 503 at once.
    fe.send(Command::kJob, "p2", pinned_job("p2", "carol"));
    auto e = h.recv_error(fe, "p2");
    CHECK(e.code == qp::Code::kUnavailable);

    // The status heartbeat carries the drain.
    auto st = h.recv_status(fe);
    bool seen = false;
    for (const auto& a : st.accounts) {
      if (a.account == "alice") seen = a.draining;
    }
    CHECK(seen);

    // Reload is forwarded to the account's worker only.
    fe.send(Command::kAdmin, {}, admin("reload", "bob"));
    auto r = h.recv(wb, Command::kAdmin);
    REQUIRE(r);
    protocol::AdminCommand c;
    REQUIRE(protocol::decode(r->body, &c).ok());
    CHECK(c.action == "reload");
    CHECK(c.account == "bob");
  }
  {
    // A new broker with the same file starts with alice drained.
    Harness h;
    h.broker().set_drain_file(file);
    CHECK(h.broker().registry_for_test().draining("alice"));
    Peer& fe = h.frontend();
    fe.send(Command::kAdmin, {}, admin("resume", "alice"));
    h.run_until([&] { return !h.broker().registry_for_test().draining("alice"); }, kDeadlineMs);
    CHECK_FALSE(h.broker().registry_for_test().draining("alice"));
  }
  std::ifstream in(file);
  std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(rest.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a pinned job does not wait behind queued jobs", "[broker][io][admin]") {
  Harness h;
  Peer& wa = h.ready_worker("worker-a", worker_status("alice", 1));
  Peer& wb = h.ready_worker("worker-b", worker_status("bob", 1));
  Peer& fe = h.frontend();
  fe.send(Command::kAdmin, {}, admin("drain", "bob"));
  h.run_until([&] { return h.broker().registry_for_test().draining("bob"); }, kDeadlineMs);
  fe.send(Command::kJob, "j1", job_body("j1"));
  auto j1 = h.recv(wa, Command::kJob);
  REQUIRE(j1);
  fe.send(Command::kJob, "j2", job_body("j2"));  // alice busy, bob drained: queued
  h.run_until([&] { return h.broker().queued_for_test() == 1; }, kDeadlineMs);
  REQUIRE(h.broker().queued_for_test() == 1);
  fe.send(Command::kJob, "p1", pinned_job("p1", "bob"));
  auto p = h.recv(wb, Command::kJob);
  REQUIRE(p);
  CHECK(p->request_id == "p1");
  CHECK(h.broker().queued_for_test() == 1);  // j2 still waits for alice
}

// A frontend started just before a worker registered answered /health with
// "unavailable" until the next heartbeat (up to heartbeat_ms): the booted
// systemd test caught it. Changes to the set of accounts now reach the
// frontends at once.
TEST_CASE("frontends hear of a worker's arrival, health change and departure at once",
          "[broker][io]") {
  qp::BrokerConfig c = test_config();
  c.heartbeat_ms = 60'000;  // no periodic heartbeat within the test
  Harness h(c);
  Peer& fe = h.frontend();
  fe.send(Command::kHeartbeat, {}, protocol::encode(protocol::PeerHello{"fe1", "frontend"}));
  CHECK(h.recv_status(fe).accounts.empty());
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 4));
  CHECK(h.status_until(fe, [](const protocol::BrokerStatus& st) {
    return st.accounts.size() == 1 && st.accounts[0].account == "alice" &&
           st.accounts[0].health == protocol::kHealthOk;
  }));
  auto limited = worker_status("alice", 4);
  limited.health = protocol::kHealthRateLimited;
  w.send(Command::kHeartbeat, {}, protocol::encode(limited));
  CHECK(h.status_until(fe, [](const protocol::BrokerStatus& st) {
    return st.accounts.size() == 1 && st.accounts[0].health == protocol::kHealthRateLimited;
  }));
  w.send(Command::kDisconnect, {}, "");
  CHECK(h.status_until(fe, [](const protocol::BrokerStatus& st) { return st.accounts.empty(); }));
}
