// In-process tests of the real Broker (harness: broker_harness.h).
#include <unistd.h>

#include "broker_harness.h"
#include "common/protocol/chunk_batch.h"

using namespace qp::broker::test_support;  // NOLINT: the harness's vocabulary

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
    protocol::JobError e{"r1", Code::kUpstream, "upstream said no", 0, {}, 0, {}};
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
  w.send(Command::kChunk, "r1", "c1");  // the client has seen output: no second try
  REQUIRE(h.recv(fe, Command::kChunk));
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

TEST_CASE("a stall of the broker's own loop expires nobody whose messages wait unread",
          "[broker][io][liveness]") {
  auto cfg = test_config();
  cfg.heartbeat_ms = 50;  // liveness window: 150 ms
  Harness h(cfg);
  Peer& fe = h.frontend();
  h.keep_alive(fe, 10, hello());
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  h.keep_alive(w, 10, protocol::encode(worker_status("alice", 2)));
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  // One broker turn takes 600 ms, at its end (check phase): the overdue
  // tick then runs before any poll phase. Both peers speak meanwhile: their
  // messages wait unread in the broker's sockets.
  struct Peers {
    Peer* fe;
    Peer* w;
  } peers{&fe, &w};
  qp::uv::Check stall;
  uv_check_init(h.loop(), stall.get());
  stall.get()->data = &peers;
  uv_check_start(stall.get(), [](uv_check_t* c) {
    uv_check_stop(c);
    auto* p = static_cast<Peers*>(c->data);
    ::usleep(300'000);
    p->fe->send(Command::kHeartbeat, {}, hello());
    p->w->send(Command::kHeartbeat, {}, protocol::encode(worker_status("alice", 2)));
    ::usleep(300'000);
  });
  // Six liveness windows after the stall, with the peers heartbeating.
  h.run_until([] { return false; }, 900);
  CHECK(h.broker().workers_for_test() == 1);
  CHECK(h.broker().jobs_for_test() == 1);  // neither failed nor cancelled
  stall.reset();
}

TEST_CASE("DISCONNECT or a restart of a worker fails its started jobs", "[broker][io]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  w.send(Command::kChunk, "r1", "c1");
  REQUIRE(h.recv(fe, Command::kChunk));
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

// Regression: a job the lost worker had not started (no CHUNK: the client has
// seen nothing) used to fail with 502 although it could simply run elsewhere.
TEST_CASE("a lost worker's unstarted jobs run again elsewhere, once", "[broker][io]") {
  Harness h;
  Peer& fe = h.frontend();
  Peer& a = h.ready_worker("worker-a", worker_status("alice", 2));
  Peer& b = h.ready_worker("worker-b", worker_status("bob", 2));
  fe.send(Command::kJob, "r1", job_body("r1"));
  fe.send(Command::kJob, "r2", job_body("r2"));
  // Least loaded first: one job each. Find which one worker-b has.
  auto jb = h.recv(b, Command::kJob);
  REQUIRE(jb);
  const std::string on_b = jb->request_id;
  const std::string on_a = on_b == "r1" ? "r2" : "r1";
  auto ja = h.recv(a, Command::kJob);
  REQUIRE(ja);
  REQUIRE(ja->request_id == on_a);
  // worker-b leaves: its job, which produced nothing, moves to worker-a.
  b.send(Command::kDisconnect);
  auto moved = h.recv(a, Command::kJob);
  REQUIRE(moved);
  CHECK(moved->request_id == on_b);
  CHECK(moved->body == job_body(on_b));
  CHECK(h.broker().workers_for_test() == 1);
  CHECK(h.worker_entry("worker-a")->in_flight == 2);

  SECTION("the moved job completes") {
    a.send(Command::kDone, on_b, "d");
    auto d = h.recv(fe, Command::kDone);
    REQUIRE(d);
    CHECK(d->request_id == on_b);
  }
  SECTION("lost a second time it fails; a job lost for the first time comes back") {
    a.send(Command::kReady, {},
           protocol::encode(worker_status("alice", 2, protocol::kHealthOk, 0, "w-i2")));
    auto e = h.recv_error(fe, on_b);
    CHECK(e.code == Code::kUpstream);
    CHECK(e.message == "the worker serving this request restarted; please retry");
    auto again = h.recv(a, Command::kJob);  // the restarted worker takes it back
    REQUIRE(again);
    CHECK(again->request_id == on_a);
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
  SECTION("no ROUTE frame") {
    fe.send(Command::kJob, "r1", "\xc1not msgpack");
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kProtocol);
    CHECK(e.message == "a job needs one ROUTE frame");
  }
  SECTION("garbage ROUTE frame") {
    fe.send_frames(Command::kJob, "r1", job_body("r1"), {"\xc1not msgpack"});
    auto e = h.recv_error(fe, "r1");
    CHECK(e.code == Code::kProtocol);
    CHECK(e.message.rfind("malformed job route: ", 0) == 0);
  }
  SECTION("unknown kind in the ROUTE frame") {
    protocol::JobRoute r{static_cast<protocol::JobKind>(7), "m", "", "", ""};
    fe.send_frames(Command::kJob, "r1", job_body("r1"), {protocol::encode(r)});
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

// ---- CHUNKS batches (wire.h, chunk_batch.h) --------------------------------

namespace {
std::string batch_of(std::initializer_list<std::pair<std::string, std::string>> entries) {
  std::string b;
  for (const auto& [rid, body] : entries) REQUIRE(protocol::append_chunk_entry(&b, rid, body));
  return b;
}
std::vector<std::pair<std::string, std::string>> entries_of(const std::string& batch) {
  std::vector<std::pair<std::string, std::string>> out;
  protocol::ChunkBatchReader r(batch);
  protocol::ChunkEntry e;
  while (r.next(&e)) out.emplace_back(e.request_id, e.body);
  REQUIRE_FALSE(r.malformed());
  return out;
}
}  // namespace

TEST_CASE("a CHUNKS batch for one frontend is forwarded whole", "[broker][io][chunks]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 4));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  fe.send(Command::kJob, "r2", job_body("r2"));
  REQUIRE(h.recv(w, Command::kJob));
  REQUIRE(h.recv(w, Command::kJob));
  const std::string batch = batch_of({{"r1", "a"}, {"r2", opaque_bytes()}, {"r1", "b"}});
  w.send(Command::kChunks, {}, batch);
  auto m = h.recv(fe, Command::kChunks);
  REQUIRE(m);
  CHECK(m->request_id.empty());
  CHECK(m->body == batch);  // byte for byte: the broker did not rebuild it
  // A chunk ends failover: the jobs are now committed to this worker.
  w.send(Command::kDone, "r1", "d1");
  REQUIRE(h.recv(fe, Command::kDone));
}

TEST_CASE("a CHUNKS batch is split per frontend, in order, unknown jobs cancelled",
          "[broker][io][chunks]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 4));
  Peer& fe1 = h.frontend("frontend-1");
  Peer& fe2 = h.frontend("frontend-2");
  fe1.send(Command::kJob, "a1", job_body("a1"));
  REQUIRE(h.recv(w, Command::kJob));
  fe2.send(Command::kJob, "b1", job_body("b1"));
  REQUIRE(h.recv(w, Command::kJob));
  fe1.send(Command::kJob, "a2", job_body("a2"));
  REQUIRE(h.recv(w, Command::kJob));
  w.send(
      Command::kChunks, {},
      batch_of({{"a1", "1"}, {"b1", "2"}, {"ghost", "3"}, {"a2", "4"}, {"b1", "5"}, {"a1", "6"}}));
  auto m1 = h.recv(fe1, Command::kChunks);
  REQUIRE(m1);
  CHECK(entries_of(m1->body) ==
        std::vector<std::pair<std::string, std::string>>{{"a1", "1"}, {"a2", "4"}, {"a1", "6"}});
  auto m2 = h.recv(fe2, Command::kChunks);
  REQUIRE(m2);
  CHECK(entries_of(m2->body) ==
        std::vector<std::pair<std::string, std::string>>{{"b1", "2"}, {"b1", "5"}});
  auto g = h.recv(w, Command::kCancel);
  REQUIRE(g);
  CHECK(g->request_id == "ghost");
}

TEST_CASE("a malformed CHUNKS batch forwards its whole entries and drops the rest",
          "[broker][io][chunks]") {
  Harness h;
  Peer& w = h.ready_worker("worker-a", worker_status("alice", 2));
  Peer& fe = h.frontend();
  fe.send(Command::kJob, "r1", job_body("r1"));
  REQUIRE(h.recv(w, Command::kJob));
  std::string batch = batch_of({{"r1", "whole"}});
  batch += std::string("\x02r1\x00\x00\x00\x09tr", 9);  // says 9 body bytes, has 2
  w.send(Command::kChunks, {}, batch);
  auto m = h.recv(fe, Command::kChunks);
  REQUIRE(m);
  CHECK(entries_of(m->body) == std::vector<std::pair<std::string, std::string>>{{"r1", "whole"}});
  // The broker is still fine: the job ends normally.
  w.send(Command::kDone, "r1", "d");
  REQUIRE(h.recv(fe, Command::kDone));
}
