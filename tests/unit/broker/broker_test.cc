// In-process tests of the real Broker: the test plays frontend and worker
// DEALERs over tcp://127.0.0.1:* and steps the broker's libuv loop from the
// same thread. Waiting is zmq_poll on the loop's backend fd plus the test
// sockets, bounded by a deadline: nothing sleeps.
#include "broker/broker.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/protocol/codec.h"
#include "common/uv/handle.h"
#include "common/zmq/envelope.h"

namespace protocol = qp::protocol;
using protocol::Command;
using qp::Code;
using qp::broker::Broker;
using qp::zmqx::Envelope;
using qp::zmqx::Frames;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kDeadlineMs = 5000;
const char* const kInstance = "broker-test-instance";

qp::BrokerConfig test_config() {
  qp::BrokerConfig c;
  c.frontend_endpoint = "tcp://127.0.0.1:*";
  c.worker_endpoint = "tcp://127.0.0.1:*";
  c.heartbeat_ms = 1000;  // tests that need expiry lower it
  c.queue_limit = 16;
  c.queue_timeout_ms = 30'000;
  return c;
}

protocol::WorkerStatus worker_status(const std::string& account, uint32_t capacity,
                                     const std::string& health = protocol::kHealthOk,
                                     int64_t until_unix_ms = 0,
                                     const std::string& instance = "w-i1") {
  protocol::WorkerStatus s;
  s.account = account;
  s.instance = instance;
  s.capacity = capacity;
  s.health = health;
  s.health_until_unix_ms = until_unix_ms;
  return s;
}

std::string job_body(const std::string& rid, protocol::JobKind kind = protocol::JobKind::kChat) {
  protocol::JobRequest r;
  r.request_id = rid;
  r.kind = kind;
  r.model = "qwen3-max";
  r.messages.push_back({"user", "hello", "", "", ""});
  r.stream = true;
  return protocol::encode(r);
}

// One DEALER playing a frontend or a worker.
class Peer {
 public:
  Peer(zmq::context_t& ctx, const std::string& endpoint, const std::string& id)
      : sock_(ctx, zmq::socket_type::dealer) {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::routing_id, id);
    sock_.connect(endpoint);
  }
  void send(Command cmd, const std::string& rid = {}, const std::string& body = {}) {
    auto frames = qp::zmqx::make_frames(cmd, rid, body);
    REQUIRE(zmq::send_multipart(sock_, frames));
  }
  void send_raw(std::vector<std::string> parts) {
    Frames frames;
    for (auto& p : parts) frames.emplace_back(p.data(), p.size());
    REQUIRE(zmq::send_multipart(sock_, frames));
  }
  bool try_recv(Frames* out) {
    out->clear();
    auto n = zmq::recv_multipart(sock_, std::back_inserter(*out), zmq::recv_flags::dontwait);
    return n.has_value();
  }
  zmq::socket_t& socket() { return sock_; }
  void close() { sock_.close(); }

 private:
  zmq::socket_t sock_;
};

struct Received {
  Command command;
  std::string request_id;
  std::string body;
};

class Harness {
 public:
  explicit Harness(const qp::BrokerConfig& config = test_config()) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    broker_ = std::make_unique<Broker>(&loop_, ctx_, config, kInstance);
    auto s = broker_->start();
    REQUIRE(s.ok());
  }
  ~Harness() {
    peers_.clear();
    broker_->stop();
    broker_.reset();
    CHECK(qp::uv::close_loop(&loop_) == 0);
  }

  Broker& broker() { return *broker_; }

  Peer& frontend(const std::string& id = "frontend-1") {
    peers_.push_back(std::make_unique<Peer>(ctx_, broker_->frontend_endpoint(), id));
    return *peers_.back();
  }
  Peer& worker(const std::string& id = "worker-a") {
    peers_.push_back(std::make_unique<Peer>(ctx_, broker_->worker_endpoint(), id));
    return *peers_.back();
  }
  // Registers a worker and waits until the broker knows it.
  Peer& ready_worker(const std::string& id, const protocol::WorkerStatus& st) {
    size_t before = broker_->workers_for_test();
    Peer& w = worker(id);
    w.send(Command::kReady, {}, protocol::encode(st));
    REQUIRE(run_until([&] { return broker_->workers_for_test() == before + 1; }));
    return w;
  }
  // `peer` sends a HEARTBEAT with `body` every `every_ms` while the loop is pumped.
  void keep_alive(Peer& peer, int every_ms, std::string body) {
    keepalive_.push_back({&peer, every_ms, std::move(body), Clock::now()});
  }

  // Runs the broker loop until done() or the deadline.
  bool run_until(const std::function<bool()>& done, int timeout_ms = kDeadlineMs,
                 Peer* watch = nullptr) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      auto next_beat = send_due_heartbeats();
      if (done()) return true;
      auto now = Clock::now();
      if (now >= deadline) return false;
      auto until = std::min(deadline, next_beat);
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
      int uv_wait = uv_backend_timeout(&loop_);
      if (uv_wait >= 0 && uv_wait < wait) wait = uv_wait;
      std::vector<zmq::pollitem_t> items;
      items.push_back({nullptr, uv_backend_fd(&loop_), ZMQ_POLLIN, 0});
      if (watch != nullptr) items.push_back({watch->socket().handle(), 0, ZMQ_POLLIN, 0});
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait));
    }
  }

  // The next message on `peer` that is not a HEARTBEAT (unless `want` is kHeartbeat).
  std::optional<Received> recv(Peer& peer, std::optional<Command> want = std::nullopt,
                               int timeout_ms = kDeadlineMs) {
    std::optional<Received> got;
    run_until(
        [&] {
          Frames f;
          while (peer.try_recv(&f)) {
            auto env = Envelope::parse(std::move(f), /*routed=*/false);
            REQUIRE(env.has_value());
            bool heartbeat = env->command() == Command::kHeartbeat;
            if (heartbeat && want != Command::kHeartbeat) continue;
            got =
                Received{env->command(), std::string(env->request_id()), std::string(env->body())};
            return true;
          }
          return false;
        },
        timeout_ms, &peer);
    if (got && want) CHECK(protocol::command_name(got->command) == protocol::command_name(*want));
    return got;
  }

  protocol::JobError recv_error(Peer& peer, const std::string& rid) {
    auto m = recv(peer, Command::kError);
    REQUIRE(m.has_value());
    CHECK(m->request_id == rid);
    protocol::JobError e;
    REQUIRE(protocol::decode(m->body, &e).ok());
    CHECK(e.request_id == rid);
    return e;
  }

  protocol::BrokerStatus recv_status(Peer& peer) {
    auto m = recv(peer, Command::kHeartbeat);
    REQUIRE(m.has_value());
    protocol::BrokerStatus st;
    REQUIRE(protocol::decode(m->body, &st).ok());
    return st;
  }

  // Reads status heartbeats until one satisfies `want` (earlier ones may be stale).
  bool status_until(Peer& peer, const std::function<bool(const protocol::BrokerStatus&)>& want) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(kDeadlineMs);
    while (Clock::now() < deadline) {
      auto m = recv(peer, Command::kHeartbeat);
      if (!m) return false;
      protocol::BrokerStatus st;
      REQUIRE(protocol::decode(m->body, &st).ok());
      if (want(st)) return true;
    }
    return false;
  }

  const qp::broker::WorkerEntry* worker_entry(const std::string& id) {
    return broker_->registry_for_test().find(id);
  }

 private:
  Clock::time_point send_due_heartbeats() {
    auto next = Clock::now() + std::chrono::hours(1);
    for (auto& k : keepalive_) {
      if (Clock::now() >= k.due) {
        k.peer->send(Command::kHeartbeat, {}, k.body);
        k.due = Clock::now() + std::chrono::milliseconds(k.every_ms);
      }
      next = std::min(next, k.due);
    }
    return next;
  }

  struct KeepAlive {
    Peer* peer;
    int every_ms;
    std::string body;
    Clock::time_point due;
  };
  zmq::context_t ctx_;  // first: destroyed last
  uv_loop_t loop_{};
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<KeepAlive> keepalive_;
};

std::string hello() { return protocol::encode(protocol::PeerHello{"fe-instance", "frontend"}); }

// Bytes that are not MessagePack at all: the broker must forward them untouched.
std::string opaque_bytes() {
  std::string s;
  for (int i = 0; i < 300; ++i) s.push_back(static_cast<char>((i * 37) & 0xff));
  s[0] = '\0';
  return s;
}

}  // namespace

TEST_CASE("broker binds and reports its resolved endpoints", "[broker][io]") {
  Harness h;
  CHECK(h.broker().frontend_endpoint().rfind("tcp://127.0.0.1:", 0) == 0);
  CHECK(h.broker().frontend_endpoint() != "tcp://127.0.0.1:*");
  CHECK(h.broker().worker_endpoint() != h.broker().frontend_endpoint());
  CHECK(h.broker().instance() == kInstance);
}

TEST_CASE("a bind failure is a clear error", "[broker][io]") {
  Harness h;
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    zmq::context_t ctx;
    auto cfg = test_config();
    cfg.frontend_endpoint = h.broker().frontend_endpoint();  // already bound
    Broker second(&loop, ctx, cfg);
    auto s = second.start();
    CHECK_FALSE(s.ok());
    CHECK(s.code() == Code::kIo);
    CHECK(s.message().find("cannot bind the frontend endpoint " + cfg.frontend_endpoint) !=
          std::string::npos);
  }
  CHECK(qp::uv::close_loop(&loop) == 0);
}

TEST_CASE("a job goes to a worker and its replies come back byte for byte", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  Peer& fe = h.frontend();
  fe.send(Command::kHeartbeat, {}, protocol::encode(protocol::PeerHello{"fe1", "frontend"}));
  auto st = h.recv_status(fe);
  CHECK(st.instance == kInstance);
  CHECK(st.workers == 1);
  CHECK(st.queued == 0);
  REQUIRE(st.accounts.size() == 1);
  CHECK(st.accounts[0].account == "alice");
  CHECK(st.accounts[0].capacity == 2);

  const std::string body = job_body("r1");
  fe.send(Command::kJob, "r1", body);
  auto job = h.recv(w, Command::kJob);
  REQUIRE(job);
  CHECK(job->request_id == "r1");
  CHECK(job->body == body);
  CHECK(h.worker_entry("worker-a")->in_flight == 1);

  const std::string chunk = opaque_bytes();
  for (int i = 0; i < 3; ++i) w.send(Command::kChunk, "r1", chunk + std::to_string(i));
  for (int i = 0; i < 3; ++i) {
    auto c = h.recv(fe, Command::kChunk);
    REQUIRE(c);
    CHECK(c->request_id == "r1");
    CHECK(c->body == chunk + std::to_string(i));
  }
  SECTION("DONE ends the job") {
    w.send(Command::kDone, "r1", "done-body");
    auto d = h.recv(fe, Command::kDone);
    REQUIRE(d);
    CHECK(d->body == "done-body");
    CHECK(h.broker().jobs_for_test() == 0);
    CHECK(h.worker_entry("worker-a")->in_flight == 0);
  }
  SECTION("ERROR from the worker ends the job and is forwarded as is") {
    protocol::JobError e{"r1", Code::kUpstream, "upstream said no", 0, {}, 0};
    const std::string eb = protocol::encode(e);
    w.send(Command::kError, "r1", eb);
    auto m = h.recv(fe, Command::kError);
    REQUIRE(m);
    CHECK(m->body == eb);
    CHECK(h.broker().jobs_for_test() == 0);
  }
}

TEST_CASE("list-models jobs are answered with MODELS even by a busy worker", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 1));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "chat", job_body("chat"));
  REQUIRE(h.recv(w, Command::kJob));
  fe.send(Command::kJob, "models", job_body("models", protocol::JobKind::kListModels));
  auto j = h.recv(w, Command::kJob);
  REQUIRE(j);
  CHECK(j->request_id == "models");
  w.send(Command::kModels, "models", "model-list");
  auto m = h.recv(fe, Command::kModels);
  REQUIRE(m);
  CHECK(m->request_id == "models");
  CHECK(m->body == "model-list");
  CHECK(h.broker().jobs_for_test() == 1);
}

TEST_CASE("a list-models job in flight does not use a chat slot", "[broker][io]") {
  auto cfg = test_config();
  cfg.queue_limit = 0;  // a chat that found no free slot would fail at once
  Harness h(cfg);
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 1));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "models", job_body("models", protocol::JobKind::kListModels));
  REQUIRE(h.recv(w, Command::kJob));
  fe.send(Command::kJob, "chat", job_body("chat"));
  auto j = h.recv(w, Command::kJob);
  REQUIRE(j);
  CHECK(j->request_id == "chat");
}

TEST_CASE("jobs wait while the worker is full and run when it frees up", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 1));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  fe.send(Command::kJob, "r2", job_body("r2"));
  fe.send(Command::kJob, "r3", job_body("r3"));
  REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 2; }));
  // The heartbeat interval is 1 s: the status that shows the queue is the
  // next tick's (the first one, sent when the frontend appeared, shows 0).
  CHECK(h.status_until(fe, [](const protocol::BrokerStatus& st) { return st.queued == 2; }));

  w.send(Command::kDone, "r1", "d1");
  REQUIRE(h.recv(fe, Command::kDone));
  auto j2 = h.recv(w, Command::kJob);
  REQUIRE(j2);
  CHECK(j2->request_id == "r2");  // FIFO
  CHECK(j2->body == job_body("r2"));
  CHECK(h.broker().queued_for_test() == 1);
  w.send(Command::kDone, "r2", "d2");
  auto j3 = h.recv(w, Command::kJob);
  REQUIRE(j3);
  CHECK(j3->request_id == "r3");
  CHECK(h.broker().queued_for_test() == 0);

  SECTION("a second worker takes queued work at once") {
    fe.send(Command::kJob, "r4", job_body("r4"));
    REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 1; }));
    Peer& w2 = h.ready_worker("worker-b", worker_status("bob", 1));
    auto j4 = h.recv(w2, Command::kJob);
    REQUIRE(j4);
    CHECK(j4->request_id == "r4");
  }
}

TEST_CASE("a full queue answers 503 at once", "[broker][io]") {
  auto cfg = test_config();
  cfg.queue_limit = 1;
  Harness h(cfg);
  Peer& fe = h.frontend();
  SECTION("with a busy worker") {
    Peer& w = h.ready_worker("worker-a", worker_status("alice", 1));
    fe.send(Command::kJob, "r1", job_body("r1"));
    REQUIRE(h.recv(w, Command::kJob));
    fe.send(Command::kJob, "r2", job_body("r2"));
    fe.send(Command::kJob, "r3", job_body("r3"));
    auto e = h.recv_error(fe, "r3");
    CHECK(e.code == Code::kUnavailable);
    CHECK(e.message == "the only worker is busy and the queue is full");
    CHECK(e.retry_after_s == qp::broker::kBusyRetryAfterS);
    CHECK(h.broker().queued_for_test() == 1);
  }
  SECTION("with several busy workers") {
    Peer& a = h.ready_worker("worker-a", worker_status("alice", 1));
    Peer& b = h.ready_worker("worker-b", worker_status("bob", 1));
    fe.send(Command::kJob, "r1", job_body("r1"));
    fe.send(Command::kJob, "r2", job_body("r2"));
    REQUIRE(h.recv(a, Command::kJob));
    REQUIRE(h.recv(b, Command::kJob));
    fe.send(Command::kJob, "r3", job_body("r3"));
    fe.send(Command::kJob, "r4", job_body("r4"));
    auto e = h.recv_error(fe, "r4");
    CHECK(e.message == "all 2 workers are busy and the queue is full");
  }
  SECTION("with no worker at all") {
    fe.send(Command::kJob, "r1", job_body("r1"));
    fe.send(Command::kJob, "r2", job_body("r2"));
    auto e = h.recv_error(fe, "r2");
    CHECK(e.code == Code::kUnavailable);
    CHECK(e.message == "no worker is connected and the queue is full");
  }
}

TEST_CASE("a job that waits too long times out with 503", "[broker][io]") {
  auto cfg = test_config();
  cfg.queue_timeout_ms = 50;
  Harness h(cfg);
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  auto e = h.recv_error(fe, "r1");
  CHECK(e.code == Code::kUnavailable);
  CHECK(e.message == "timed out after 50 ms waiting for a worker: no worker is connected");
  CHECK(e.retry_after_s == qp::broker::kBusyRetryAfterS);
  CHECK(h.broker().jobs_for_test() == 0);
  CHECK(h.broker().queued_for_test() == 0);
}

TEST_CASE("cancel from the frontend", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 1));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));

  SECTION("in flight: forwarded to the worker, late chunks dropped quietly") {
    const std::string cb = protocol::encode(protocol::Cancel{"r1", "client went away"});
    fe.send(Command::kCancel, "r1", cb);
    auto c = h.recv(w, Command::kCancel);
    REQUIRE(c);
    CHECK(c->request_id == "r1");
    CHECK(c->body == cb);
    CHECK(h.broker().jobs_for_test() == 0);
    CHECK(h.worker_entry("worker-a")->in_flight == 0);

    // The slot is free again: a new job runs.
    fe.send(Command::kJob, "r2", job_body("r2"));
    REQUIRE(h.recv(w, Command::kJob));
    // A late chunk of r1 is neither forwarded nor answered (already cancelled);
    // the r2 chunk behind it shows the order.
    w.send(Command::kChunk, "r1", "late");
    w.send(Command::kChunk, "r2", "fresh");
    auto m = h.recv(fe, Command::kChunk);
    REQUIRE(m);
    CHECK(m->request_id == "r2");
    // And a chunk of a job the broker never knew gets a CANCEL back.
    w.send(Command::kChunk, "ghost", "x");
    auto g = h.recv(w, Command::kCancel);
    REQUIRE(g);
    CHECK(g->request_id == "ghost");
    protocol::Cancel gc;
    REQUIRE(protocol::decode(g->body, &gc).ok());
    CHECK(gc.reason == "unknown job");
  }
  SECTION("queued: removed from the queue, the worker never sees it") {
    fe.send(Command::kJob, "r2", job_body("r2"));
    REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 1; }));
    fe.send(Command::kCancel, "r2", protocol::encode(protocol::Cancel{"r2", "gone"}));
    REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 0; }));
    CHECK(h.broker().jobs_for_test() == 1);
    w.send(Command::kDone, "r1", "d");
    REQUIRE(h.recv(fe, Command::kDone));
    fe.send(Command::kJob, "r3", job_body("r3"));
    auto j = h.recv(w, Command::kJob);
    REQUIRE(j);
    CHECK(j->request_id == "r3");  // not r2
  }
  SECTION("a cancel from another frontend is ignored") {
    Peer& other = h.frontend("frontend-2");
    other.send(Command::kCancel, "r1", protocol::encode(protocol::Cancel{"r1", "x"}));
    other.send(Command::kHeartbeat, {}, protocol::encode(protocol::PeerHello{"fe2", "frontend"}));
    REQUIRE(h.recv_status(other).workers == 1);  // processed after the cancel
    CHECK(h.broker().jobs_for_test() == 1);
  }
}

TEST_CASE("a silent worker expires and its jobs fail", "[broker][io]") {
  auto cfg = test_config();
  cfg.heartbeat_ms = 50;
  Harness h(cfg);
  Peer& fe = h.frontend();
  h.keep_alive(fe, 10, hello());
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  // The worker now says nothing at all.
  auto e = h.recv_error(fe, "r1");
  CHECK(e.code == Code::kUpstream);
  CHECK(e.message == "the worker serving this request stopped; please retry");
  CHECK(h.broker().workers_for_test() == 0);
  CHECK(h.broker().jobs_for_test() == 0);
  auto d = h.recv(w, Command::kDisconnect);
  REQUIRE(d);
  SECTION("its heartbeat registers it again") {
    w.send(Command::kHeartbeat, {}, protocol::encode(worker_status("alice", 2)));
    REQUIRE(h.run_until([&] { return h.broker().workers_for_test() == 1; }));
  }
}

TEST_CASE("a worker that stays alive by heartbeats keeps its jobs", "[broker][io]") {
  auto cfg = test_config();
  cfg.heartbeat_ms = 50;
  Harness h(cfg);
  Peer& fe = h.frontend();
  h.keep_alive(fe, 10, hello());
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  // Answer 6 broker heartbeats (twice the liveness window) with our own.
  for (int i = 0; i < 6; ++i) {
    auto st = h.recv(w, Command::kHeartbeat);
    REQUIRE(st);
    w.send(Command::kHeartbeat, {}, protocol::encode(worker_status("alice", 2)));
  }
  CHECK(h.broker().jobs_for_test() == 1);
  CHECK(h.broker().workers_for_test() == 1);
}

TEST_CASE("DISCONNECT or a restart of a worker fails its jobs", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  SECTION("disconnect") {
    w.send(Command::kDisconnect);
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kUpstream);
    CHECK(e.message == "the worker serving this request stopped; please retry");
    CHECK(h.broker().workers_for_test() == 0);
  }
  SECTION("restart: same routing id, new instance") {
    w.send(Command::kReady, {},
           protocol::encode(worker_status("alice", 2, protocol::kHealthOk, 0, "w-i2")));
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kUpstream);
    CHECK(e.message == "the worker serving this request restarted; please retry");
    CHECK(h.broker().workers_for_test() == 1);
    CHECK(h.worker_entry("worker-a")->in_flight == 0);
  }
}

TEST_CASE("a silent frontend expires and its jobs are cancelled", "[broker][io]") {
  auto cfg = test_config();
  cfg.heartbeat_ms = 50;
  Harness h(cfg);
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  h.keep_alive(w, 10, protocol::encode(worker_status("alice", 2)));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  auto c = h.recv(w, Command::kCancel);
  REQUIRE(c);
  CHECK(c->request_id == "r1");
  protocol::Cancel cancel;
  REQUIRE(protocol::decode(c->body, &cancel).ok());
  CHECK(cancel.reason == "frontend stopped responding");
  CHECK(h.broker().jobs_for_test() == 0);
  CHECK(h.broker().frontends_for_test() == 0);
}

TEST_CASE("a frontend that restarts or says goodbye loses its jobs", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  Peer& fe = h.frontend();
  fe.send(Command::kHeartbeat, {}, protocol::encode(protocol::PeerHello{"fe-a", "frontend"}));
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  std::string reason;
  SECTION("a new instance on the same routing id") {
    fe.send(Command::kHeartbeat, {}, protocol::encode(protocol::PeerHello{"fe-b", "frontend"}));
    reason = "frontend restarted";
  }
  SECTION("DISCONNECT") {
    fe.send(Command::kDisconnect);
    reason = "frontend disconnected";
  }
  auto c = h.recv(w, Command::kCancel);
  REQUIRE(c);
  CHECK(c->request_id == "r1");
  protocol::Cancel cancel;
  REQUIRE(protocol::decode(c->body, &cancel).ok());
  CHECK(cancel.reason == reason);
  CHECK(h.broker().jobs_for_test() == 0);
}

TEST_CASE("a frontend that vanished gets its job cancelled on the next send", "[broker][io]") {
  Harness h;  // heartbeat 1 s: expiry would take 3 s, far beyond this test
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  fe.close();
  // The broker learns of the disconnect asynchronously; keep streaming until
  // a send fails (ROUTER_MANDATORY) and the broker cancels.
  std::optional<Received> cancel;
  auto deadline = Clock::now() + std::chrono::milliseconds(kDeadlineMs);
  while (!cancel && Clock::now() < deadline) {
    w.send(Command::kChunk, "r1", "data");
    cancel = h.recv(w, Command::kCancel, 20);
  }
  REQUIRE(cancel);
  protocol::Cancel c;
  REQUIRE(protocol::decode(cancel->body, &c).ok());
  CHECK(c.reason == "frontend unreachable");
  CHECK(h.broker().jobs_for_test() == 0);
  CHECK(h.worker_entry("worker-a")->in_flight == 0);
}

TEST_CASE("unhealthy accounts: fail fast or wait", "[broker][io]") {
  Harness h;
  Peer& fe = h.frontend();
  SECTION("every account needs a human: 503 with the reasons") {
    h.ready_worker("worker-a", worker_status("alice", 2, protocol::kHealthNeedsVerification));
    h.ready_worker("worker-b", worker_status("bob", 2, protocol::kHealthCredentialsInvalid));
    fe.send(Command::kJob, "r1", job_body("r1"));
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kUnavailable);
    CHECK(e.message ==
          "no Qwen account is available: account alice needs human verification, account bob's "
          "credentials were rejected");
    CHECK(h.broker().jobs_for_test() == 0);
  }
  SECTION("rate limited: 429 with retry-after") {
    int64_t until = qp::uv::now_unix_ms() + 42'000;
    h.ready_worker("worker-a", worker_status("alice", 2, protocol::kHealthRateLimited, until));
    fe.send(Command::kJob, "r1", job_body("r1"));
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kRateLimited);
    CHECK(e.retry_after_s >= 40);
    CHECK(e.retry_after_s <= 42);
  }
  SECTION("queued jobs fail when the last healthy account breaks") {
    Peer& w = h.ready_worker("worker-a", worker_status("alice", 1));
    fe.send(Command::kJob, "r1", job_body("r1"));
    REQUIRE(h.recv(w, Command::kJob));
    fe.send(Command::kJob, "r2", job_body("r2"));
    REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 1; }));
    w.send(Command::kHeartbeat, {},
           protocol::encode(worker_status("alice", 1, protocol::kHealthCredentialsInvalid)));
    auto e = h.recv_error(fe, "r2");
    CHECK(e.code == Code::kUnavailable);
    CHECK(e.message == "no Qwen account is available: account alice's credentials were rejected");
    CHECK(h.broker().jobs_for_test() == 1);  // r1 keeps running
  }
  SECTION("an unreachable upstream makes jobs wait for recovery") {
    Peer& w = h.ready_worker("worker-a", worker_status("alice", 1, protocol::kHealthUnreachable));
    fe.send(Command::kJob, "r1", job_body("r1"));
    REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 1; }));
    w.send(Command::kHeartbeat, {}, protocol::encode(worker_status("alice", 1)));
    auto j = h.recv(w, Command::kJob);
    REQUIRE(j);
    CHECK(j->request_id == "r1");
  }
}

TEST_CASE("bad requests from a frontend get a clear error", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 4));
  Peer& fe = h.frontend();
  SECTION("duplicate request id") {
    fe.send(Command::kJob, "r1", job_body("r1"));
    REQUIRE(h.recv(w, Command::kJob));
    fe.send(Command::kJob, "r1", job_body("r1"));
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kInvalidArgument);
    CHECK(e.message == "request id r1 is already in use");
    CHECK(h.broker().jobs_for_test() == 1);  // the first one is untouched
  }
  SECTION("missing request id") {
    fe.send(Command::kJob, "", job_body(""));
    auto e = h.recv_error(fe, "");
    CHECK(e.code == Code::kInvalidArgument);
  }
  SECTION("garbage body") {
    fe.send(Command::kJob, "r1", "\xc1not msgpack");
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kProtocol);
    CHECK(e.message.rfind("malformed job request: ", 0) == 0);
  }
  SECTION("request id frame and body disagree") {
    fe.send(Command::kJob, "r1", job_body("other"));
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kInvalidArgument);
  }
  CHECK(h.broker().queued_for_test() == 0);
}

TEST_CASE("garbage frames are dropped without harm", "[broker][io]") {
  Harness h;
  Peer& w = h.worker("worker-a");
  Peer& fe = h.frontend();
  const std::string cmd_job(1, static_cast<char>(Command::kJob));
  for (Peer* p : {&w, &fe}) {
    p->send_raw({"hello"});
    p->send_raw({"QP01", cmd_job, "r1"});                    // 3 frames
    p->send_raw({"QP02", cmd_job, "r1", "x"});               // wrong version
    p->send_raw({"QP01", std::string(1, '\0'), "r1", "x"});  // command 0
    p->send_raw({"QP01", std::string(1, '\x63'), "r1", "x"});
    p->send_raw({"QP01", "xx", "r1", "x"});  // command not one byte
    p->send_raw({"QP01", cmd_job, "r1", "x", "extra"});
    p->send_raw({"", "", "", ""});
  }
  w.send(Command::kReady, {}, "\xff\xfe garbage status");  // not registered
  w.send(Command::kJob, "r9", job_body("r9"));             // wrong direction
  w.send(Command::kDone, "nobody", "x");                   // unknown job: dropped
  fe.send(Command::kChunk, "r9", "x");                     // wrong direction
  fe.send(Command::kHeartbeat, {}, "\x01 not a hello");
  auto st = h.recv_status(fe);  // still serving
  CHECK(st.workers == 0);
  CHECK(h.broker().jobs_for_test() == 0);
  // And real work still flows.
  w.send(Command::kReady, {}, protocol::encode(worker_status("alice", 1)));
  REQUIRE(h.run_until([&] { return h.broker().workers_for_test() == 1; }));
  fe.send(Command::kJob, "r1", job_body("r1"));
  auto j = h.recv(w, Command::kJob);
  REQUIRE(j);
  CHECK(j->request_id == "r1");
}

TEST_CASE("a worker learns the broker status when it registers", "[broker][io]") {
  Harness h;
  Peer& w = h.worker("worker-a");
  w.send(Command::kHeartbeat, {}, protocol::encode(worker_status("alice", 3)));
  auto st = h.recv_status(w);
  CHECK(st.instance == kInstance);
  CHECK(st.workers == 1);
  REQUIRE(st.accounts.size() == 1);
  CHECK(st.accounts[0].capacity == 3);
}

TEST_CASE("stop ends every job and says goodbye to workers", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 1));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  fe.send(Command::kJob, "r2", job_body("r2"));
  REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 1; }));
  h.broker().stop();
  std::vector<std::string> failed;
  for (int i = 0; i < 2; ++i) {
    auto m = h.recv(fe, Command::kError);
    REQUIRE(m);
    protocol::JobError e;
    REQUIRE(protocol::decode(m->body, &e).ok());
    CHECK(e.code == Code::kUnavailable);
    CHECK(e.message == "the broker is shutting down; please retry");
    failed.push_back(m->request_id);
  }
  std::sort(failed.begin(), failed.end());
  CHECK(failed == std::vector<std::string>{"r1", "r2"});
  auto c = h.recv(w, Command::kCancel);
  REQUIRE(c);
  CHECK(c->request_id == "r1");
  REQUIRE(h.recv(w, Command::kDisconnect));
  h.broker().stop();  // idempotent
}
