#include "broker/worker_registry.h"

#include <catch2/catch.hpp>

namespace protocol = qp::protocol;
using qp::Code;
using qp::broker::Registration;
using qp::broker::Selection;
using qp::broker::WorkerRegistry;
using Action = Selection::Action;
using protocol::JobKind;

namespace {

constexpr uint64_t kHeartbeatMs = 1000;
constexpr int64_t kUnixNow = 1'700'000'000'000;

protocol::WorkerStatus status(std::string account, uint32_t capacity = 2,
                              std::string health = protocol::kHealthOk, int64_t until = 0,
                              std::string instance = "i1") {
  protocol::WorkerStatus s;
  s.account = std::move(account);
  s.instance = std::move(instance);
  s.capacity = capacity;
  s.health = std::move(health);
  s.health_until_unix_ms = until;
  return s;
}

std::string pick(const WorkerRegistry& r, JobKind kind = JobKind::kChat) {
  Selection s = r.select(kind, kUnixNow);
  REQUIRE(s.action == Action::kDispatch);
  return s.worker;
}

}  // namespace

TEST_CASE("READY and heartbeats register workers", "[broker][registry]") {
  WorkerRegistry r(kHeartbeatMs);
  CHECK(r.size() == 0);
  CHECK(r.update("w1", status("alice"), 0) == Registration::kNew);
  SECTION("a heartbeat from an unknown worker registers it like READY") {
    CHECK(r.update("w2", status("bob"), 5) == Registration::kNew);
    CHECK(r.size() == 2);
    REQUIRE(r.find("w2") != nullptr);
    CHECK(r.find("w2")->status.account == "bob");
    CHECK(r.find("w2")->last_seen_ms == 5);
  }
  SECTION("the same instance again is an update") {
    CHECK(r.update("w1", status("alice", 7), 10) == Registration::kUpdated);
    CHECK(r.size() == 1);
    CHECK(r.find("w1")->status.capacity == 7);
    CHECK(r.find("w1")->last_seen_ms == 10);
  }
  SECTION("a different instance on the same routing id is a restart that keeps in_flight") {
    r.assign("w1");
    CHECK(r.update("w1", status("alice", 2, protocol::kHealthOk, 0, "i2"), 10) ==
          Registration::kRestarted);
    CHECK(r.find("w1")->in_flight == 1);
    CHECK(r.find("w1")->status.instance == "i2");
  }
  SECTION("remove forgets a worker") {
    CHECK(r.remove("w1"));
    CHECK_FALSE(r.remove("w1"));
    CHECK(r.find("w1") == nullptr);
  }
}

TEST_CASE("liveness: a worker silent for kLiveness intervals expires", "[broker][registry]") {
  WorkerRegistry r(kHeartbeatMs);  // window = 3 * 1000 ms
  REQUIRE(r.update("w1", status("alice"), 0) == Registration::kNew);
  REQUIRE(r.update("w2", status("bob"), 0) == Registration::kNew);
  CHECK(r.expire(3000).empty());  // exactly the window: still alive
  CHECK(r.touch("w2", 2500));
  CHECK_FALSE(r.touch("nobody", 2500));
  auto dead = r.expire(3001);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].id == "w1");
  CHECK(dead[0].status.account == "alice");
  CHECK(r.size() == 1);
  CHECK(r.expire(5500).empty());
  CHECK(r.expire(5501).size() == 1);
  CHECK(r.size() == 0);

  SECTION("heartbeats keep a worker alive") {
    WorkerRegistry r2(100);
    REQUIRE(r2.update("w", status("a"), 0) == Registration::kNew);
    for (int64_t t = 100; t <= 10'000; t += 100) {
      r2.update("w", status("a"), t);
      CHECK(r2.expire(t + 250).empty());
    }
  }
  SECTION("liveness is configurable") {
    WorkerRegistry r3(100, 5);
    REQUIRE(r3.update("w", status("a"), 0) == Registration::kNew);
    CHECK(r3.expire(500).empty());
    CHECK(r3.expire(501).size() == 1);
  }
}

TEST_CASE("capacity: a worker takes at most `capacity` chat jobs", "[broker][registry]") {
  WorkerRegistry r(kHeartbeatMs);
  SECTION("no workers: the job waits") {
    Selection s = r.select(JobKind::kChat, kUnixNow);
    CHECK(s.action == Action::kQueue);
  }
  REQUIRE(r.update("w1", status("alice", 2), 0) == Registration::kNew);
  CHECK(pick(r) == "w1");
  r.assign("w1");
  CHECK(pick(r) == "w1");
  r.assign("w1");
  CHECK(r.find("w1")->in_flight == 2);
  CHECK(r.select(JobKind::kChat, kUnixNow).action == Action::kQueue);
  r.release("w1");
  CHECK(pick(r) == "w1");
  SECTION("release never goes below zero; unknown ids are ignored") {
    r.release("w1");
    r.release("w1");
    CHECK(r.find("w1")->in_flight == 0);
    r.assign("ghost");
    r.release("ghost");
    CHECK(r.size() == 1);
  }
  SECTION("a capacity raised by a heartbeat takes effect") {
    r.assign("w1");
    REQUIRE(r.select(JobKind::kChat, kUnixNow).action == Action::kQueue);
    r.update("w1", status("alice", 3), 1);
    CHECK(pick(r) == "w1");
  }
  SECTION("capacity 0 never takes chat jobs") {
    WorkerRegistry r0(kHeartbeatMs);
    r0.update("z", status("zed", 0), 0);
    CHECK(r0.select(JobKind::kChat, kUnixNow).action == Action::kQueue);
    CHECK(pick(r0, JobKind::kListModels) == "z");
  }
}

TEST_CASE("selection: least loaded first, then round-robin among equals", "[broker][registry]") {
  WorkerRegistry r(kHeartbeatMs);
  r.update("a", status("alice", 4), 0);
  r.update("b", status("bob", 2), 0);
  r.update("c", status("carol", 4), 0);
  SECTION("equals rotate in registration order") {
    std::vector<std::string> order;
    for (int i = 0; i < 6; ++i) {
      std::string w = pick(r);
      order.push_back(w);
      r.assign(w);
      r.release(w);
    }
    CHECK(order == std::vector<std::string>{"a", "b", "c", "a", "b", "c"});
  }
  SECTION("the ratio in_flight/capacity decides") {
    r.assign("a");  // 1/4
    r.assign("b");  // 1/2
    // c is 0/4: least loaded.
    CHECK(pick(r) == "c");
    r.assign("c");  // 1/4 == a; c was assigned more recently -> a
    CHECK(pick(r) == "a");
    r.assign("a");  // a 2/4 == b 1/2, c 1/4 -> c
    CHECK(pick(r) == "c");
    r.assign("c");  // a 2/4, b 1/2, c 2/4: all equal; b assigned longest ago
    CHECK(pick(r) == "b");
  }
  SECTION("fill all and the job waits") {
    for (int i = 0; i < 10; ++i) {
      Selection s = r.select(JobKind::kChat, kUnixNow);
      REQUIRE(s.action == Action::kDispatch);
      r.assign(s.worker);
    }
    CHECK(r.find("a")->in_flight == 4);
    CHECK(r.find("b")->in_flight == 2);
    CHECK(r.find("c")->in_flight == 4);
    CHECK(r.select(JobKind::kChat, kUnixNow).action == Action::kQueue);
  }
}

TEST_CASE("health filtering for chat jobs", "[broker][registry]") {
  WorkerRegistry r(kHeartbeatMs);
  SECTION("unhealthy workers are skipped while a healthy one has room") {
    r.update("a", status("alice", 2, protocol::kHealthNeedsVerification), 0);
    r.update("b", status("bob", 2, protocol::kHealthRateLimited, kUnixNow + 5000), 0);
    r.update("c", status("carol", 1), 0);
    CHECK(pick(r) == "c");
    r.assign("c");
    SECTION("a healthy but full worker: queue") {
      CHECK(r.select(JobKind::kChat, kUnixNow).action == Action::kQueue);
    }
  }
  SECTION("all permanently unhealthy: fail fast with the reasons") {
    r.update("a", status("alice", 2, protocol::kHealthNeedsVerification), 0);
    r.update("b", status("bob", 2, protocol::kHealthCredentialsInvalid), 0);
    Selection s = r.select(JobKind::kChat, kUnixNow);
    CHECK(s.action == Action::kFail);
    CHECK(s.code == Code::kUnavailable);
    CHECK(s.retry_after_s == 0);
    CHECK(s.message ==
          "no Qwen account is available: account alice needs human verification, account bob's "
          "credentials were rejected");
  }
  SECTION("a transiently unhealthy worker makes jobs wait") {
    r.update("a", status("alice", 2, protocol::kHealthNeedsVerification), 0);
    r.update("d", status("dave", 2, protocol::kHealthUnreachable), 0);
    CHECK(r.select(JobKind::kChat, kUnixNow).action == Action::kQueue);
    CHECK(r.describe_shortage(kUnixNow) ==
          "no Qwen account is available: account alice needs human verification, account dave "
          "cannot reach the Qwen service");
  }
  SECTION("all rate limited: 429 with retry-after until the earliest limit lifts") {
    r.update("a", status("alice", 2, protocol::kHealthRateLimited, kUnixNow + 30'000), 0);
    r.update("b", status("bob", 2, protocol::kHealthRateLimited, kUnixNow + 12'001), 0);
    Selection s = r.select(JobKind::kChat, kUnixNow);
    CHECK(s.action == Action::kFail);
    CHECK(s.code == Code::kRateLimited);
    CHECK(s.retry_after_s == 13);
    CHECK(s.message ==
          "no Qwen account is available: account alice is rate limited for 30 s more, account bob "
          "is rate limited for 13 s more");
    SECTION("once the earliest limit has passed, that worker serves again") {
      Selection later = r.select(JobKind::kChat, kUnixNow + 12'001);
      REQUIRE(later.action == Action::kDispatch);
      CHECK(later.worker == "b");
    }
  }
  SECTION("rate limited and permanently unhealthy: still 429 (the limit lifts)") {
    r.update("a", status("alice", 2, protocol::kHealthNeedsVerification), 0);
    r.update("b", status("bob", 2, protocol::kHealthRateLimited, kUnixNow + 2000), 0);
    Selection s = r.select(JobKind::kChat, kUnixNow);
    CHECK(s.action == Action::kFail);
    CHECK(s.code == Code::kRateLimited);
    CHECK(s.retry_after_s == 2);
  }
  SECTION("a rate limit of unknown length retries after the default") {
    r.update("b", status("bob", 2, protocol::kHealthRateLimited, 0), 0);
    Selection s = r.select(JobKind::kChat, kUnixNow);
    CHECK(s.code == Code::kRateLimited);
    CHECK(s.retry_after_s == qp::broker::kUnknownRateLimitRetryS);
  }
  SECTION("an expired rate limit counts as healthy") {
    r.update("b", status("bob", 2, protocol::kHealthRateLimited, kUnixNow - 1), 0);
    CHECK(pick(r) == "b");
  }
}

TEST_CASE("list-models jobs go to any worker whose credentials work", "[broker][registry]") {
  WorkerRegistry r(kHeartbeatMs);
  SECTION("no workers: wait") {
    CHECK(r.select(JobKind::kListModels, kUnixNow).action == Action::kQueue);
  }
  SECTION("capacity and transient health do not matter") {
    r.update("a", status("alice", 1, protocol::kHealthRateLimited, kUnixNow + 60'000), 0);
    r.assign("a");
    CHECK(pick(r, JobKind::kListModels) == "a");
    r.update("b", status("bob", 1, protocol::kHealthNeedsVerification), 0);
    CHECK(pick(r, JobKind::kListModels) == "b");  // less loaded
  }
  SECTION("rejected credentials are skipped") {
    r.update("a", status("alice", 1, protocol::kHealthCredentialsInvalid), 0);
    r.update("b", status("bob", 1, protocol::kHealthUnreachable), 0);
    CHECK(pick(r, JobKind::kListModels) == "b");
  }
  SECTION("all credentials rejected: fail fast") {
    r.update("a", status("alice", 1, protocol::kHealthCredentialsInvalid), 0);
    Selection s = r.select(JobKind::kListModels, kUnixNow);
    CHECK(s.action == Action::kFail);
    CHECK(s.code == Code::kUnavailable);
    CHECK(s.message == "no Qwen account is available: account alice's credentials were rejected");
  }
}

TEST_CASE("summaries and shortage descriptions", "[broker][registry]") {
  WorkerRegistry r(kHeartbeatMs);
  CHECK(r.describe_shortage(kUnixNow) == "no worker is connected");
  auto st = status("alice", 3);
  st.token_expires_unix_s = 1234;
  r.update("w1", st, 0);
  r.assign("w1");
  CHECK(r.describe_shortage(kUnixNow) == "the only worker is busy");
  r.update("w2", status("bob", 1), 0);
  CHECK(r.describe_shortage(kUnixNow) == "all 2 workers are busy");
  r.update("w3", status("carol", 1, protocol::kHealthNeedsVerification), 0);
  CHECK(r.describe_shortage(kUnixNow) ==
        "all 2 available workers are busy (account carol needs human verification)");
  auto sums = r.summaries();
  REQUIRE(sums.size() == 3);
  CHECK(sums[0].account == "alice");
  CHECK(sums[0].capacity == 3);
  CHECK(sums[0].in_flight == 1);
  CHECK(sums[0].health == "ok");
  CHECK(sums[0].token_expires_unix_s == 1234);
  CHECK(sums[1].account == "bob");
  CHECK(sums[2].account == "carol");
  CHECK(sums[2].health == protocol::kHealthNeedsVerification);
  CHECK(r.ids() == std::vector<std::string>{"w1", "w2", "w3"});
}

TEST_CASE("drained accounts take no new chat jobs", "[broker][registry][admin]") {
  WorkerRegistry r(kHeartbeatMs);
  r.update("wa", status("alice"), 0);
  r.update("wb", status("bob"), 0);
  r.set_draining("alice", true);
  CHECK(r.draining("alice"));
  for (int i = 0; i < 2; ++i) {  // bob's capacity
    std::string w = pick(r);
    CHECK(w == "wb");
    r.assign(w);
  }
  CHECK(r.select(JobKind::kChat, kUnixNow).action == Action::kQueue);  // not alice
  r.release("wb");
  r.release("wb");
  // Model lists still go anywhere.
  CHECK(r.select(JobKind::kListModels, kUnixNow).action == Action::kDispatch);
  // All drained: fail with a reason naming the drain.
  r.set_draining("bob", true);
  Selection s = r.select(JobKind::kChat, kUnixNow);
  REQUIRE(s.action == Action::kFail);
  CHECK(s.code == Code::kUnavailable);
  CHECK(s.message.find("drained") != std::string::npos);
  r.set_draining("alice", false);
  r.set_draining("bob", false);
  CHECK(pick(r) == "wa");
  auto sums = r.summaries();
  REQUIRE(sums.size() == 2);
  CHECK_FALSE(sums[0].draining);
  r.set_draining("bob", true);
  sums = r.summaries();
  CHECK(sums[1].draining);
}

TEST_CASE("a pinned job goes to its account only, drained or not, never queued",
          "[broker][registry][admin]") {
  WorkerRegistry r(kHeartbeatMs);
  r.update("wa", status("alice", 1), 0);
  r.update("wb", status("bob", 1), 0);
  r.set_draining("bob", true);
  Selection s = r.select(JobKind::kChat, kUnixNow, {}, "bob");
  REQUIRE(s.action == Action::kDispatch);
  CHECK(s.worker == "wb");
  s = r.select(JobKind::kChat, kUnixNow, "alice", "bob");  // pin beats preference
  CHECK(s.worker == "wb");
  r.assign("wb");
  s = r.select(JobKind::kChat, kUnixNow, {}, "bob");  // busy: fail, not queue
  CHECK(s.action == Action::kFail);
  CHECK(s.code == Code::kUnavailable);
  s = r.select(JobKind::kChat, kUnixNow, {}, "carol");  // no such worker
  CHECK(s.action == Action::kFail);
  CHECK(s.message.find("carol") != std::string::npos);
}

TEST_CASE("summaries carry pid, start time, cooldown and restarts", "[broker][registry][admin]") {
  WorkerRegistry r(kHeartbeatMs);
  auto st = status("alice", 2, protocol::kHealthRateLimited, kUnixNow + 5000, "i1");
  st.pid = 4321;
  st.started_unix_ms = 77;
  r.update("wa", st, 0);
  auto sums = r.summaries();
  REQUIRE(sums.size() == 1);
  CHECK(sums[0].pid == 4321);
  CHECK(sums[0].started_unix_ms == 77);
  CHECK(sums[0].health_until_unix_ms == kUnixNow + 5000);
  CHECK(sums[0].restarts == 0);
  r.update("wa", st, 1);  // heartbeat: same instance
  CHECK(r.summaries()[0].restarts == 0);
  st.instance = "i2";
  r.update("wa", st, 2);  // same routing id, new process
  CHECK(r.summaries()[0].restarts == 1);
  r.remove("wa");
  st.instance = "i3";
  r.update("wa2", st, 3);  // a new connection of a new process
  CHECK(r.summaries()[0].restarts == 2);
}
