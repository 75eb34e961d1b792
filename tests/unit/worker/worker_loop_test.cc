// The Worker against a fake broker (a ROUTER on the same loop) and the fake
// upstream: registration, jobs, cancel, capacity, malformed frames, broker
// restart, liveness and shutdown.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "common/protocol/codec.h"
#include "common/zmq/envelope.h"
#include "common/zmq/uv_socket.h"
#include "fake_broker.h"
#include "fake_upstream.h"
#include "worker/worker.h"

using qp::protocol::Command;
using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;

namespace {

const std::string kJwt =  // exp 4102444800 (2100-01-01)
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6InUiLCJleHAiOjQxMDI0NDQ4MDB9.c2ln";
const std::string kChatId = "chat-1";

using Msg = qp::testing::BrokerMsg;
using qp::testing::chat_job;
using qp::testing::FakeBroker;

// The upstream: chats/new ok; completions stream "Hel" "lo" then finished,
// unless the prompt is "slow": then one delta and the connection stays open.
FakeResponse upstream(const FakeRequest& r) {
  FakeResponse resp;
  if (r.target == "/api/v2/chats/new") {
    resp.pieces = {R"({"success":true,"data":{"id":")" + kChatId + "\"}}"};
    return resp;
  }
  if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
    resp.pieces = {R"({"success":true,"data":{"status":true}})"};
    return resp;
  }
  if (r.target == "/api/models") {
    resp.pieces = {R"({"data":[{"id":"qwen3-max","name":"Qwen3-Max"}]})"};
    return resp;
  }
  resp.content_type = "text/event-stream";
  if (r.body.find("\"content\":\"slow\"") != std::string::npos) {
    resp.pieces = {
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\",\"phase\":\"answer\"}}]}\n\n"};
    resp.keep_open = true;
    return resp;
  }
  if (r.body.find("\"content\":\"held ") != std::string::npos) {
    // One delta, written when the test releases every held response at once.
    const std::string text = r.body.find("held 1") != std::string::npos ? "one" : "two";
    resp.pieces = {"data: {\"choices\":[{\"delta\":{\"content\":\"" + text +
                   "\",\"phase\":\"answer\"}}]}\n\n"};
    resp.held = true;
    resp.keep_open = true;
    return resp;
  }
  resp.pieces = {"data: {\"response.created\":{\"chat_id\":\"" + kChatId +
                     "\",\"parent_id\":\"p\",\"response_id\":\"r\"}}\n\n",
                 "data: "
                 "{\"choices\":[{\"delta\":{\"content\":\"Hel\",\"phase\":\"answer\"}}],\"usage\":{"
                 "\"input_tokens\":3,\"output_tokens\":1}}\n\n",
                 "data: "
                 "{\"choices\":[{\"delta\":{\"content\":\"lo\",\"phase\":\"answer\"}}],\"usage\":{"
                 "\"input_tokens\":3,\"output_tokens\":2}}\n\n",
                 "data: "
                 "{\"choices\":[{\"delta\":{\"content\":\"\",\"phase\":\"answer\",\"status\":"
                 "\"finished\"}}]}\n\n"};
  resp.piece_delay_ms = 1;
  return resp;
}

struct Env {
  uv_loop_t loop{};
  std::unique_ptr<zmq::context_t> ctx;
  std::unique_ptr<FakeUpstream> up;
  std::unique_ptr<FakeBroker> broker;
  qp::Config config;
  qp::AccountConfig account;
  std::unique_ptr<qp::worker::Worker> worker;

  explicit Env(uint32_t capacity = 2, uint64_t heartbeat_ms = 60'000) {
    REQUIRE(uv_loop_init(&loop) == 0);
    ctx = std::make_unique<zmq::context_t>(1);
    up = std::make_unique<FakeUpstream>(&loop, upstream);
    broker = std::make_unique<FakeBroker>(&loop, *ctx);
    config.broker.worker_endpoint = broker->endpoint();
    config.broker.allow_plaintext_tcp = true;  // loopback (common/zmq/link_security.h)
    config.broker.heartbeat_ms = heartbeat_ms;
    config.upstream.base_url = up->base_url();
    config.worker.prewarm_chats = 0;  // the tests count upstream requests
    account.name = "acct";
    account.cookies = "token=" + kJwt;
    account.capacity = capacity;
    worker = std::make_unique<qp::worker::Worker>(&loop, *ctx, config, account);
    REQUIRE(worker->start().ok());
  }

  // The worker's current routing id: that of its latest READY.
  std::string ready(size_t nth = 0) {
    REQUIRE(run_until(&loop, [&] { return broker->count(Command::kReady) > nth; }));
    size_t seen = 0;
    for (const auto& m : broker->msgs) {
      if (m.command == Command::kReady && seen++ == nth) return m.routing_id;
    }
    return {};
  }

  void finish() {
    worker->shutdown();
    // Let the DISCONNECT reach the broker, so closing the context is quick.
    run_until(
        &loop, [&] { return broker->find(Command::kDisconnect).has_value(); }, 2000);
    broker->close();
    up->close();
    // Returns only if the worker left no active handle behind after shutdown.
    uv_run(&loop, UV_RUN_DEFAULT);
    worker.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    broker.reset();
    up.reset();
    ctx.reset();
    CHECK(uv_loop_close(&loop) == 0);
  }
};

}  // namespace

TEST_CASE("worker: READY carries the account status", "[worker]") {
  Env env;
  env.ready();
  qp::protocol::WorkerStatus st;
  REQUIRE(qp::protocol::decode(env.broker->msgs.at(0).body, &st).ok());
  CHECK(st.account == "acct");
  CHECK(st.capacity == 2);
  CHECK(st.in_flight == 0);
  CHECK(st.health == "ok");
  CHECK(st.token_expires_unix_s == 4102444800);
  CHECK(st.instance.size() == 16);
  CHECK(st.pid == static_cast<int64_t>(::getpid()));
  CHECK(st.started_unix_ms > 0);
  env.finish();
}

TEST_CASE("worker: chunks of several jobs ready in one loop turn leave as one CHUNKS batch",
          "[worker][chunks]") {
  Env env;
  std::string w = env.ready();
  env.broker->job(w, chat_job("h1", "held 1"));
  env.broker->job(w, chat_job("h2", "held 2"));
  REQUIRE(run_until(&env.loop, [&] { return env.up->held_count() == 2; }));
  env.up->release_held();  // both answers arrive before the worker's next poll
  REQUIRE(run_until(&env.loop, [&] {
    return env.broker->find(Command::kChunk, "h1").has_value() &&
           env.broker->find(Command::kChunk, "h2").has_value();
  }));
  const Msg& one = env.broker->msgs[*env.broker->find(Command::kChunk, "h1")];
  const Msg& two = env.broker->msgs[*env.broker->find(Command::kChunk, "h2")];
  CHECK(one.batch != 0);  // sent as CHUNKS, not CHUNK
  CHECK(one.batch == two.batch);
  CHECK(env.broker->chunk_batches == 1);
  qp::protocol::JobChunk c;
  REQUIRE(qp::protocol::decode(one.body, &c).ok());
  CHECK(c.content == "one");
  REQUIRE(qp::protocol::decode(two.body, &c).ok());
  CHECK(c.content == "two");
  env.finish();
}

TEST_CASE("worker: a job's DONE follows its batched chunks", "[worker][chunks]") {
  Env env;
  std::string w = env.ready();
  env.broker->job(w, chat_job("j0"));
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDone, "j0").has_value(); }));
  const size_t done_at = *env.broker->find(Command::kDone, "j0");
  size_t chunks = 0;
  for (size_t i = 0; i < env.broker->msgs.size(); ++i) {
    const Msg& m = env.broker->msgs[i];
    if (m.command != Command::kChunk) continue;
    ++chunks;
    CHECK(m.batch != 0);
    CHECK(i < done_at);
  }
  CHECK(chunks >= 2);  // "Hel" and "lo" arrive in separate reads
  env.finish();
}

TEST_CASE("worker: a chat job streams CHUNKs then DONE", "[worker]") {
  Env env;
  std::string w = env.ready();
  auto job = chat_job("j1");
  job.history.state = std::string(64, 'a');  // the frontend's chain value: the reply is indexed
  env.broker->job(w, job);
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDone, "j1").has_value(); }));
  std::string text;
  std::vector<std::string> accounts;  // per CHUNK
  size_t done_at = *env.broker->find(Command::kDone, "j1");
  for (size_t i = 0; i < env.broker->msgs.size(); ++i) {
    const Msg& m = env.broker->msgs[i];
    if (m.command != Command::kChunk) continue;
    CHECK(i < done_at);
    CHECK(m.request_id == "j1");
    qp::protocol::JobChunk c;
    REQUIRE(qp::protocol::decode(m.body, &c).ok());
    text += c.content;
    accounts.push_back(c.account);
  }
  CHECK(text == "Hello");
  // The first CHUNK names the account (admin API's live requests), no other.
  REQUIRE(!accounts.empty());
  CHECK(accounts[0] == "acct");
  for (size_t i = 1; i < accounts.size(); ++i) CHECK(accounts[i].empty());
  qp::protocol::JobDone d;
  REQUIRE(qp::protocol::decode(env.broker->msgs[done_at].body, &d).ok());
  CHECK(d.finish_reason == "stop");
  CHECK(d.has_usage);
  CHECK(d.usage.prompt_tokens == 3);
  CHECK(d.usage.completion_tokens == 2);
  CHECK(d.usage.total_tokens == 5);
  CHECK(d.chat_id == kChatId);
  CHECK(d.account == "acct");
  // The session index update rides in its own SESSION frame (wire.h).
  REQUIRE(env.broker->msgs[done_at].extra.size() == 1);
  qp::protocol::SessionUpdate u;
  REQUIRE(qp::protocol::decode(env.broker->msgs[done_at].extra[0], &u).ok());
  CHECK(u.chat_id == kChatId);
  CHECK(u.account == "acct");
  CHECK(u.model == "qwen3-max");
  CHECK(u.session_key.size() == 64);
  CHECK_FALSE(u.parent_id.empty());
  CHECK(env.worker->in_flight() == 0);
  env.finish();
}

TEST_CASE("worker: a models job answers MODELS", "[worker]") {
  Env env;
  std::string w = env.ready();
  qp::protocol::JobRequest j;
  j.request_id = "m1";
  j.kind = qp::protocol::JobKind::kListModels;
  env.broker->job(w, j);
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kModels, "m1").has_value(); }));
  qp::protocol::ModelList list;
  REQUIRE(
      qp::protocol::decode(env.broker->msgs[*env.broker->find(Command::kModels)].body, &list).ok());
  CHECK(list.request_id == "m1");
  REQUIRE(list.models.size() == 1);
  CHECK(list.models[0].id == "qwen3-max");
  env.finish();
}

TEST_CASE("worker: CANCEL aborts the job silently and stops the upstream", "[worker]") {
  Env env;
  std::string w = env.ready();
  auto j = chat_job("c1");
  j.messages[0].content = "slow";
  env.broker->job(w, j);
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "c1").has_value(); }));
  CHECK(env.worker->in_flight() == 1);
  env.broker->send(w, Command::kCancel, "c1",
                   qp::protocol::encode(qp::protocol::Cancel{"c1", "client gone"}));
  REQUIRE(run_until(&env.loop, [&] {
    for (const auto& r : env.up->requests()) {
      if (r.target.rfind("/api/v2/chat/completions/stop?chat_id=" + kChatId, 0) == 0) return true;
    }
    return false;
  }));
  CHECK(env.worker->in_flight() == 0);
  CHECK(env.broker->count(Command::kDone, "c1") == 0);
  CHECK(env.broker->count(Command::kError, "c1") == 0);
  env.finish();
}

TEST_CASE("worker: a JOB beyond capacity gets ERROR unavailable", "[worker]") {
  Env env(/*capacity=*/1);
  std::string w = env.ready();
  auto slow = chat_job("a");
  slow.messages[0].content = "slow";
  env.broker->job(w, slow);
  env.broker->job(w, chat_job("b"));
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kError, "b").has_value(); }));
  qp::protocol::JobError e;
  REQUIRE(qp::protocol::decode(env.broker->msgs[*env.broker->find(Command::kError, "b")].body, &e)
              .ok());
  CHECK(e.code == qp::Code::kUnavailable);
  CHECK_THAT(e.message, Catch::Contains("capacity"));
  CHECK(env.worker->in_flight() == 1);
  env.finish();
}

TEST_CASE("worker: model lists are served even when chats fill the capacity", "[worker]") {
  Env env(/*capacity=*/1);
  std::string w = env.ready();
  auto slow = chat_job("a");
  slow.messages[0].content = "slow";
  env.broker->job(w, slow);
  qp::protocol::JobRequest list;
  list.request_id = "m";
  list.kind = qp::protocol::JobKind::kListModels;
  env.broker->job(w, list);
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kModels, "m").has_value(); }));
  CHECK(env.broker->count(Command::kError) == 0);
  env.finish();
}

TEST_CASE("worker: malformed frames are dropped, a bad JOB body gets ERROR", "[worker]") {
  Env env;
  std::string w = env.ready();
  qp::zmqx::Frames wrong_version;
  wrong_version.emplace_back(w.data(), w.size());
  for (std::string_view f : {"XX01", "\x03", "r", "body"})
    wrong_version.emplace_back(f.data(), f.size());
  env.broker->send_raw(std::move(wrong_version));
  qp::zmqx::Frames too_few;
  too_few.emplace_back(w.data(), w.size());
  too_few.emplace_back("QP01", 4);
  env.broker->send_raw(std::move(too_few));
  env.broker->send(w, Command::kJob, "bad", "\xc1\xff garbage");
  env.broker->send(w, Command::kHeartbeat, "", "\xc1");  // undecodable heartbeat
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kError, "bad").has_value(); }));
  qp::protocol::JobError e;
  REQUIRE(qp::protocol::decode(env.broker->msgs[*env.broker->find(Command::kError, "bad")].body, &e)
              .ok());
  CHECK(e.code == qp::Code::kProtocol);
  // Still serving.
  env.broker->job(w, chat_job("ok"));
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDone, "ok").has_value(); }));
  env.finish();
}

TEST_CASE("worker: a broker restart (new instance) aborts jobs and re-registers", "[worker]") {
  Env env;
  std::string w = env.ready();
  env.broker->heartbeat(w, "broker-A");
  auto slow = chat_job("s1");
  slow.messages[0].content = "slow";
  env.broker->job(w, slow);
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "s1").has_value(); }));
  env.broker->heartbeat(w, "broker-B");
  std::string w2 = env.ready(1);
  CHECK(w2 != w);  // a new socket
  CHECK(env.worker->in_flight() == 0);
  REQUIRE(run_until(&env.loop, [&] { return env.up->requests().size() == 3; }));  // the stop call
  CHECK(env.up->requests()[2].target.rfind("/api/v2/chat/completions/stop", 0) == 0);
  // The new registration serves jobs.
  env.broker->heartbeat(w2, "broker-B");
  env.broker->job(w2, chat_job("after"));
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kDone, "after").has_value(); }));
  env.finish();
}

TEST_CASE("worker: a silent broker triggers a reconnect with READY", "[worker]") {
  Env env(2, /*heartbeat_ms=*/20);
  env.ready();
  // No broker heartbeats: after 3 intervals + the 1 s initial backoff, READY again.
  std::string w2 = env.ready(1);
  CHECK_FALSE(w2.empty());
  CHECK(env.broker->count(Command::kHeartbeat) >= 1);
  env.broker->heartbeat(w2, "broker");  // keep the new registration alive until finish()
  env.finish();
}

TEST_CASE("worker: a stall of its own loop does not make the broker look silent",
          "[worker][liveness]") {
  Env env(2, /*heartbeat_ms=*/100);  // liveness window: 300 ms
  const std::string w = env.ready();
  // The broker answers each worker HEARTBEAT from this loop: it stalls with
  // the worker, like a broker whose heartbeats are still in the kernel.
  size_t answered = 0;
  auto answer = [&] {
    for (size_t n = env.broker->count(Command::kHeartbeat); answered < n; ++answered) {
      env.broker->heartbeat(w, "broker");
    }
  };
  env.broker->heartbeat(w, "broker");
  REQUIRE(run_until(&env.loop, [&] {
    answer();
    return answered >= 3;
  }));
  // One loop turn takes 700 ms (more than twice the liveness window), at its
  // end (check phase), so that the next thing the loop does is run the
  // overdue timers: no poll phase reads anything in between.
  qp::uv::Check stall;
  uv_check_init(&env.loop, stall.get());
  uv_check_start(stall.get(), [](uv_check_t* h) {
    uv_check_stop(h);
    ::usleep(700'000);
  });
  const size_t before = answered;
  REQUIRE(run_until(&env.loop, [&] {
    answer();
    return answered >= before + 5;
  }));
  CHECK(env.broker->count(Command::kReady) == 1);  // never gave up on the broker
  stall.reset();
  env.finish();
}

TEST_CASE("worker: DISCONNECT from the broker leads to a new READY", "[worker]") {
  Env env;
  std::string w = env.ready();
  env.broker->send(w, Command::kDisconnect, "", "");
  std::string w2 = env.ready(1);
  CHECK(w2 != w);
  env.finish();
}

TEST_CASE("worker: shutdown fails in-flight jobs and sends DISCONNECT", "[worker]") {
  Env env;
  std::string w = env.ready();
  auto slow = chat_job("s");
  slow.messages[0].content = "slow";
  env.broker->job(w, slow);
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "s").has_value(); }));
  env.worker->shutdown();
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDisconnect).has_value(); }));
  auto err = env.broker->find(Command::kError, "s");
  REQUIRE(err.has_value());
  CHECK(*err < *env.broker->find(Command::kDisconnect));
  qp::protocol::JobError e;
  REQUIRE(qp::protocol::decode(env.broker->msgs[*err].body, &e).ok());
  CHECK(e.code == qp::Code::kUnavailable);
  CHECK(e.message == "worker shutting down");
  // A JOB after shutdown is never served (the socket is closed).
  env.finish();
}

namespace {

// The capacity the worker advertised in its latest HEARTBEAT.
std::optional<uint32_t> last_capacity(const FakeBroker& broker) {
  std::optional<uint32_t> cap;
  for (const auto& m : broker.msgs) {
    if (m.command != Command::kHeartbeat) continue;
    qp::protocol::WorkerStatus st;
    if (qp::protocol::decode(m.body, &st).ok()) cap = st.capacity;
  }
  return cap;
}

}  // namespace

TEST_CASE("worker: drain (SIGTERM) keeps jobs in flight, takes no new chat, leaves when idle",
          "[worker]") {
  Env env;
  std::string w = env.ready();
  auto slow = chat_job("s");
  slow.messages[0].content = "slow";
  env.broker->job(w, slow);
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "s").has_value(); }));
  env.worker->drain(60'000);
  CHECK(env.worker->draining());
  // Capacity 0 goes to the broker at once; the job is not cut, the worker stays.
  REQUIRE(run_until(&env.loop, [&] { return last_capacity(*env.broker) == 0u; }));
  CHECK_FALSE(env.broker->find(Command::kError, "s").has_value());
  CHECK_FALSE(env.broker->find(Command::kDisconnect).has_value());
  CHECK(env.worker->in_flight() == 1);
  // The last job ends (here: cancelled by the client): the worker leaves.
  env.broker->cancel(w, "s");
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDisconnect).has_value(); }));
  CHECK_FALSE(env.broker->find(Command::kError, "s").has_value());
  env.finish();
}

TEST_CASE("worker: drain cuts what is left after the grace period", "[worker]") {
  Env env;
  std::string w = env.ready();
  auto slow = chat_job("s");
  slow.messages[0].content = "slow";
  env.broker->job(w, slow);
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "s").has_value(); }));
  env.worker->drain(50);
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDisconnect).has_value(); }));
  auto err = env.broker->find(Command::kError, "s");
  REQUIRE(err.has_value());
  qp::protocol::JobError e;
  REQUIRE(qp::protocol::decode(env.broker->msgs[*err].body, &e).ok());
  CHECK(e.message == "worker shutting down");
  env.finish();
}

TEST_CASE("worker: drain with nothing in flight, or a second signal, stops at once", "[worker]") {
  SECTION("idle") {
    Env env;
    env.ready();
    env.worker->drain(60'000);
    REQUIRE(
        run_until(&env.loop, [&] { return env.broker->find(Command::kDisconnect).has_value(); }));
    env.finish();
  }
  SECTION("second signal") {
    Env env;
    std::string w = env.ready();
    auto slow = chat_job("s");
    slow.messages[0].content = "slow";
    env.broker->job(w, slow);
    REQUIRE(
        run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "s").has_value(); }));
    env.worker->drain(60'000);
    env.worker->drain(60'000);
    REQUIRE(
        run_until(&env.loop, [&] { return env.broker->find(Command::kDisconnect).has_value(); }));
    CHECK(env.broker->find(Command::kError, "s").has_value());
    env.finish();
  }
  SECTION("the broker leaves (DISCONNECT) while draining") {
    Env env;
    std::string w = env.ready();
    auto slow = chat_job("s");
    slow.messages[0].content = "slow";
    env.broker->job(w, slow);
    REQUIRE(
        run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "s").has_value(); }));
    env.worker->drain(60'000);
    env.broker->send(w, Command::kDisconnect, "", "");
    REQUIRE(
        run_until(&env.loop, [&] { return env.broker->find(Command::kDisconnect).has_value(); }));
    env.finish();
  }
}
