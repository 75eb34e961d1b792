// Conversation routing in the real Broker: a JOB whose ROUTE's history key
// is in the SessionStore continues its upstream chat on a worker of the
// session's account (a RESUME frame after the untouched body); a busy chat, a
// missing or unhealthy account or another model make it replay (no RESUME);
// a DONE's SESSION frame is indexed and never reaches the frontend.
//
// The harness is broker_harness.h's, with a SessionStore on ":memory:"
// passed to the Broker.
#include "broker_harness.h"

using namespace qp::broker::test_support;  // NOLINT: the harness's vocabulary
using qp::broker::Session;
using qp::broker::SessionStore;

namespace {

constexpr uint64_t kTtlMs = 3'600'000;

qp::BrokerConfig sessions_config() {
  qp::BrokerConfig c = test_config();
  c.heartbeat_ms = 10'000;  // no peer expires during a test
  return c;
}

// A chat job continuing a conversation: user, assistant, new user message.
protocol::JobRequest chat_job(const std::string& rid, const std::string& key,
                              const std::string& model = "qwen3-max") {
  protocol::JobRequest r;
  r.request_id = rid;
  r.model = model;
  r.messages.push_back({"user", "hi", "", "", ""});
  r.messages.push_back({"assistant", "hello", "", "", ""});
  r.messages.push_back({"user", "more", "", "", ""});
  r.stream = true;
  r.history.key = key;
  r.history.new_from = key.empty() ? 0 : 2;
  r.history.state = std::string(64, 'a');
  r.history.system_hash = "sys-now";
  return r;
}

Session session(const std::string& account, const std::string& chat, const std::string& parent,
                const std::string& model = "qwen3-max") {
  Session s;
  s.account = account;
  s.chat_id = chat;
  s.parent_id = parent;
  s.model = model;
  s.system_hash = "sys-then";
  s.tools_hash = "tools-then";
  s.last_used_unix_ms = qp::uv::now_unix_ms();
  return s;
}

// The shared harness with a SessionStore on ":memory:" given to the broker.
struct StoreHolder {
  std::unique_ptr<SessionStore> store = SessionStore::open(":memory:", kTtlMs, 1000);
};

class SessionHarness : private StoreHolder, public Harness {
 public:
  SessionHarness() : Harness(sessions_config(), StoreHolder::store.get()) {
    REQUIRE(StoreHolder::store);
  }
  SessionStore& store() { return *StoreHolder::store; }

  // The JOB `rid` as the worker got it, with its RESUME frame (if any) read
  // into `resume` as the worker does. The body and ROUTE frames must be the
  // frontend's own bytes.
  protocol::JobRequest recv_job(Peer& worker, const std::string& rid) {
    auto m = recv(worker, Command::kJob);
    REQUIRE(m.has_value());
    CHECK(m->request_id == rid);
    protocol::JobRequest req;
    REQUIRE(protocol::decode(m->body, &req).ok());
    CHECK(req.request_id == rid);
    CHECK(m->body == protocol::encode(req));
    REQUIRE((m->extra.size() == 1 || m->extra.size() == 2));
    CHECK(m->extra[0] == protocol::encode(protocol::route_of(req)));
    if (m->extra.size() == 2) REQUIRE(protocol::decode(m->extra[1], &req.resume).ok());
    return req;
  }

  void send_job(Peer& fe, const protocol::JobRequest& req) {
    fe.send(Command::kJob, req.request_id, protocol::encode(req));
  }

  // The worker ends `rid` with DONE (and a SESSION frame when `session` is
  // given); returns the body the frontend got.
  std::string finish(Peer& worker, Peer& fe, const protocol::JobDone& done,
                     const std::optional<protocol::SessionUpdate>& session = std::nullopt) {
    const std::string body = protocol::encode(done);
    if (session) {
      worker.send_frames(Command::kDone, done.request_id, body, {protocol::encode(*session)});
    } else {
      worker.send(Command::kDone, done.request_id, body);
    }
    auto m = recv(fe, Command::kDone);
    REQUIRE(m.has_value());
    CHECK(m->request_id == done.request_id);
    CHECK(m->body == body);
    CHECK(m->extra.empty());  // the SESSION frame is the broker's alone
    return m->body;
  }

  uint32_t in_flight(const std::string& worker) {
    const auto* w = broker().registry_for_test().find(worker);
    REQUIRE(w != nullptr);
    return w->in_flight;
  }
};

protocol::Cancel cancel_of(const std::string& rid) {
  protocol::Cancel c;
  c.request_id = rid;
  c.reason = "client gone";
  return c;
}

protocol::JobDone done_of(const std::string& rid, const std::string& account) {
  protocol::JobDone d;
  d.request_id = rid;
  d.chat_id = "chat-of-" + rid;
  d.account = account;
  return d;
}

}  // namespace

TEST_CASE("sessions: a known key continues on the session's account", "[broker][sessions]") {
  SessionHarness h;
  h.store().put("key-A", session("alice", "chat-1", "p-1"));
  Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 4));
  Peer& fe = h.frontend();
  // One unrelated job makes alice the busier worker: without the session's
  // preference the next job would go to bob.
  h.send_job(fe, chat_job("r0", ""));
  auto r0 = h.recv_job(alice, "r0");
  CHECK(r0.resume.chat_id.empty());
  Peer& bob = h.ready_worker("worker-bob", worker_status("bob", 4));

  h.send_job(fe, chat_job("r1", "key-A"));
  auto r1 = h.recv_job(alice, "r1");
  CHECK(r1.resume.chat_id == "chat-1");
  CHECK(r1.resume.parent_id == "p-1");
  CHECK(r1.resume.system_hash == "sys-then");
  CHECK(r1.resume.tools_hash == "tools-then");
  // The rest of the job is unchanged.
  CHECK(r1.model == "qwen3-max");
  REQUIRE(r1.messages.size() == 3);
  CHECK(r1.messages[2].content == "more");
  CHECK(r1.history.key == "key-A");
  CHECK(r1.history.new_from == 2);
  CHECK(r1.history.system_hash == "sys-now");
  CHECK(h.in_flight("worker-alice") == 2);
  CHECK(h.in_flight("worker-bob") == 0);

  SECTION("a job without a key still goes to the less loaded worker") {
    h.send_job(fe, chat_job("r2", ""));
    auto r2 = h.recv_job(bob, "r2");
    CHECK(r2.resume.chat_id.empty());
  }
  SECTION("a second concurrent continuation of the same chat forks (no resume)") {
    h.send_job(fe, chat_job("r2", "key-A"));
    auto r2 = h.recv_job(alice, "r2");  // still preferred: same account
    CHECK(r2.resume.chat_id.empty());
    CHECK(r2.resume.parent_id.empty());
    CHECK(h.in_flight("worker-alice") == 3);

    // Once the first continuation ended, the chat is free again.
    h.finish(alice, fe, done_of("r1", "alice"));
    h.send_job(fe, chat_job("r3", "key-A"));
    auto r3 = h.recv_job(alice, "r3");
    CHECK(r3.resume.chat_id == "chat-1");
    CHECK(r3.resume.parent_id == "p-1");
  }
  SECTION("an error or a cancel also frees the chat") {
    protocol::JobError e;
    e.request_id = "r1";
    e.code = qp::Code::kUpstream;
    e.message = "boom";
    alice.send(Command::kError, "r1", protocol::encode(e));
    REQUIRE(h.recv(fe, Command::kError));
    h.send_job(fe, chat_job("r2", "key-A"));
    auto r2 = h.recv_job(alice, "r2");
    CHECK(r2.resume.chat_id == "chat-1");
    fe.send(Command::kCancel, "r2", protocol::encode(cancel_of("r2")));
    REQUIRE(h.recv(alice, Command::kCancel));
    h.send_job(fe, chat_job("r3", "key-A"));
    auto r3 = h.recv_job(alice, "r3");
    CHECK(r3.resume.chat_id == "chat-1");
  }
}

TEST_CASE("sessions: without a usable worker of the account the job replays elsewhere",
          "[broker][sessions]") {
  SessionHarness h;
  Peer& fe = h.frontend();
  SECTION("account absent") {
    h.store().put("key-C", session("carol", "chat-c", "p-c"));
    Peer& bob = h.ready_worker("worker-bob", worker_status("bob", 2));
    h.send_job(fe, chat_job("r1", "key-C"));
    auto r1 = h.recv_job(bob, "r1");
    CHECK(r1.resume.chat_id.empty());
    CHECK(r1.resume.parent_id.empty());
  }
  SECTION("account rate limited") {
    h.store().put("key-A", session("alice", "chat-1", "p-1"));
    h.ready_worker("worker-alice", worker_status("alice", 4, protocol::kHealthRateLimited,
                                                 qp::uv::now_unix_ms() + 600'000));
    Peer& bob = h.ready_worker("worker-bob", worker_status("bob", 4));
    h.send_job(fe, chat_job("r1", "key-A"));
    auto r1 = h.recv_job(bob, "r1");
    CHECK(r1.resume.chat_id.empty());
    CHECK(h.in_flight("worker-alice") == 0);
  }
  SECTION("account's worker full: replay now rather than wait") {
    h.store().put("key-A", session("alice", "chat-1", "p-1"));
    Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 1));
    h.send_job(fe, chat_job("r0", ""));
    h.recv_job(alice, "r0");
    Peer& bob = h.ready_worker("worker-bob", worker_status("bob", 1));
    h.send_job(fe, chat_job("r1", "key-A"));
    auto r1 = h.recv_job(bob, "r1");
    CHECK(r1.resume.chat_id.empty());
  }
}

TEST_CASE("sessions: a queued continuation gets its resume when dispatched", "[broker][sessions]") {
  SessionHarness h;
  h.store().put("key-A", session("alice", "chat-1", "p-1"));
  Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 1));
  Peer& fe = h.frontend();
  h.send_job(fe, chat_job("r0", ""));
  h.recv_job(alice, "r0");
  h.send_job(fe, chat_job("r1", "key-A"));
  REQUIRE(h.run_until([&] { return h.broker().queued_for_test() == 1; }));
  h.finish(alice, fe, done_of("r0", "alice"));
  auto r1 = h.recv_job(alice, "r1");
  CHECK(r1.resume.chat_id == "chat-1");
  CHECK(r1.resume.parent_id == "p-1");
  CHECK(r1.messages.size() == 3);
}

TEST_CASE("sessions: a DONE with a session key is indexed", "[broker][sessions]") {
  SessionHarness h;
  Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 2));
  Peer& fe = h.frontend();
  h.send_job(fe, chat_job("r1", ""));
  h.recv_job(alice, "r1");
  const int64_t before = qp::uv::now_unix_ms();
  protocol::JobDone d = done_of("r1", "alice");
  d.chat_id = "chat-9";
  h.finish(alice, fe, d,
           protocol::SessionUpdate{"key-B", "chat-9", "resp-9", "alice", "qwen3-max", "sys-9",
                                   "tools-9"});

  auto s = h.store().find("key-B", qp::uv::now_unix_ms());
  REQUIRE(s);
  CHECK(s->account == "alice");
  CHECK(s->chat_id == "chat-9");
  CHECK(s->parent_id == "resp-9");
  CHECK(s->model == "qwen3-max");
  CHECK(s->system_hash == "sys-9");
  CHECK(s->tools_hash == "tools-9");
  CHECK(s->last_used_unix_ms >= before);
  CHECK(h.store().size() == 1);

  // The next turn continues it.
  h.send_job(fe, chat_job("r2", "key-B"));
  auto r2 = h.recv_job(alice, "r2");
  CHECK(r2.resume.chat_id == "chat-9");
  CHECK(r2.resume.parent_id == "resp-9");
  CHECK(r2.resume.system_hash == "sys-9");
  CHECK(r2.resume.tools_hash == "tools-9");

  // A DONE without a session key (answer cut short) indexes nothing.
  protocol::JobDone cut = done_of("r2", "alice");
  cut.chat_id = "chat-9";
  cut.finish_reason = "length";
  h.finish(alice, fe, cut);
  CHECK(h.store().size() == 1);
}

TEST_CASE("sessions: another model starts a new chat", "[broker][sessions]") {
  SessionHarness h;
  h.store().put("key-A", session("alice", "chat-1", "p-1", "qwen3-max"));
  Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 2));
  Peer& fe = h.frontend();
  h.send_job(fe, chat_job("r1", "key-A", "qwen-plus"));
  auto r1 = h.recv_job(alice, "r1");
  CHECK(r1.resume.chat_id.empty());
  CHECK(r1.model == "qwen-plus");
  // The same model still continues.
  h.send_job(fe, chat_job("r2", "key-A", "qwen3-max"));
  auto r2 = h.recv_job(alice, "r2");
  CHECK(r2.resume.chat_id == "chat-1");
}

TEST_CASE("sessions: an expired session is not continued", "[broker][sessions]") {
  SessionHarness h;
  Session old = session("alice", "chat-1", "p-1");
  old.last_used_unix_ms -= static_cast<int64_t>(kTtlMs) + 1000;
  h.store().put("key-A", old);
  Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 2));
  Peer& fe = h.frontend();
  h.send_job(fe, chat_job("r1", "key-A"));
  auto r1 = h.recv_job(alice, "r1");
  CHECK(r1.resume.chat_id.empty());
}

TEST_CASE("sessions: the qwen_chat_id override continues that chat", "[broker][sessions]") {
  SessionHarness h;
  Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 2));
  Peer& fe = h.frontend();
  SECTION("a chat the index knows: its newest parent and account") {
    h.store().put("k-old", session("alice", "chat-7", "p-old"));
    Session newer = session("alice", "chat-7", "p-new");
    newer.last_used_unix_ms += 1;
    h.store().put("k-new", newer);
    protocol::JobRequest j = chat_job("r1", "");
    j.chat_id = "chat-7";
    h.send_job(fe, j);
    auto r1 = h.recv_job(alice, "r1");
    CHECK(r1.resume.chat_id == "chat-7");
    CHECK(r1.resume.parent_id == "p-new");
  }
  SECTION("a chat the index does not know: from its root") {
    protocol::JobRequest j = chat_job("r1", "");
    j.chat_id = "chat-unknown";
    h.send_job(fe, j);
    auto r1 = h.recv_job(alice, "r1");
    CHECK(r1.resume.chat_id == "chat-unknown");
    CHECK(r1.resume.parent_id.empty());
  }
}

TEST_CASE("sessions: an account failure before the first chunk replays on another account",
          "[broker][sessions]") {
  SessionHarness h;
  h.store().put("key-A", session("alice", "chat-1", "p-1"));
  Peer& alice = h.ready_worker("worker-alice", worker_status("alice", 2));
  Peer& bob = h.ready_worker("worker-bob", worker_status("bob", 2));
  Peer& fe = h.frontend();
  h.send_job(fe, chat_job("r1", "key-A"));
  auto first = h.recv_job(alice, "r1");
  REQUIRE(first.resume.chat_id == "chat-1");

  protocol::JobError e;
  e.request_id = "r1";
  e.code = qp::Code::kRateLimited;
  e.message = "account alice is rate limited";
  e.account_health = protocol::kHealthRateLimited;
  e.health_until_unix_ms = qp::uv::now_unix_ms() + 600'000;
  alice.send(Command::kError, "r1", protocol::encode(e));
  auto again = h.recv_job(bob, "r1");
  CHECK(again.resume.chat_id.empty());
  CHECK(again.resume.parent_id.empty());
  REQUIRE(again.messages.size() == 3);  // the whole history, for the replay
  CHECK(again.history.key == "key-A");

  protocol::JobDone d = done_of("r1", "bob");
  d.chat_id = "chat-b";
  h.finish(bob, fe, d,
           protocol::SessionUpdate{"key-B", "chat-b", "resp-b", "bob", "qwen3-max", "",
                                   ""});  // the frontend saw no error, only this DONE
  auto s = h.store().find("key-B", qp::uv::now_unix_ms());
  REQUIRE(s);
  CHECK(s->account == "bob");
  CHECK(s->chat_id == "chat-b");
  // The conversation now continues on bob.
  h.send_job(fe, chat_job("r2", "key-B"));
  auto r2 = h.recv_job(bob, "r2");
  CHECK(r2.resume.chat_id == "chat-b");
  CHECK(r2.resume.parent_id == "resp-b");
}
