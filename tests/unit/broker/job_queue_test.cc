#include "broker/job_queue.h"

#include <catch2/catch.hpp>

using qp::broker::JobQueue;
using qp::broker::QueuedJob;
using qp::protocol::JobKind;

namespace {
std::vector<std::string> ids(const std::vector<QueuedJob>& v) {
  std::vector<std::string> out;
  for (const auto& q : v) out.push_back(q.request_id);
  return out;
}
}  // namespace

TEST_CASE("the queue is bounded", "[broker][queue]") {
  JobQueue q(2, 1000);
  CHECK(q.empty());
  CHECK(q.push("a", JobKind::kChat, 0));
  CHECK_FALSE(q.push("a", JobKind::kChat, 0));  // already queued
  CHECK(q.push("b", JobKind::kChat, 0));
  CHECK(q.full());
  CHECK_FALSE(q.push("c", JobKind::kChat, 0));
  CHECK(q.size() == 2);
  CHECK_FALSE(q.contains("c"));
  CHECK(q.remove("a"));
  CHECK(q.push("c", JobKind::kChat, 0));
  SECTION("a limit of 0 queues nothing") {
    JobQueue none(0, 1000);
    CHECK(none.full());
    CHECK_FALSE(none.push("a", JobKind::kChat, 0));
  }
}

TEST_CASE("the queue is FIFO", "[broker][queue]") {
  JobQueue q(10, 1000);
  q.push("a", JobKind::kChat, 0);
  q.push("m", JobKind::kListModels, 1);
  q.push("b", JobKind::kChat, 2);
  REQUIRE(q.first(false, false) != nullptr);
  CHECK(q.first(false, false)->request_id == "a");
  CHECK(q.first(false, false)->enqueued_ms == 0);
  SECTION("kinds can be skipped") {
    CHECK(q.first(true, false)->request_id == "m");
    CHECK(q.first(false, true)->request_id == "a");
    CHECK(q.first(true, true) == nullptr);
    q.remove("m");
    CHECK(q.first(true, false) == nullptr);
    CHECK(q.count(JobKind::kListModels) == 0);
    CHECK(q.count(JobKind::kChat) == 2);
  }
  SECTION("removing the head exposes the next") {
    q.remove("a");
    CHECK(q.first(false, false)->request_id == "m");
    q.remove("m");
    CHECK(q.first(false, false)->request_id == "b");
    q.remove("b");
    CHECK(q.first(false, false) == nullptr);
    CHECK_FALSE(q.remove("b"));
  }
  SECTION("counts by kind") {
    CHECK(q.count(JobKind::kChat) == 2);
    CHECK(q.count(JobKind::kListModels) == 1);
  }
}

TEST_CASE("queued jobs time out", "[broker][queue]") {
  JobQueue q(10, 1000);
  CHECK_FALSE(q.next_deadline_ms().has_value());
  q.push("a", JobKind::kChat, 0);
  q.push("b", JobKind::kListModels, 400);
  q.push("c", JobKind::kChat, 400);
  REQUIRE(q.next_deadline_ms().has_value());
  CHECK(*q.next_deadline_ms() == 1000);
  CHECK(q.expire(999).empty());
  CHECK(ids(q.expire(1000)) == std::vector<std::string>{"a"});
  CHECK(*q.next_deadline_ms() == 1400);
  CHECK(ids(q.expire(5000)) == std::vector<std::string>{"b", "c"});
  CHECK(q.empty());
  CHECK(q.count(JobKind::kListModels) == 0);
  CHECK_FALSE(q.next_deadline_ms().has_value());
  SECTION("a cancelled job does not time out") {
    q.push("d", JobKind::kChat, 10'000);
    q.push("e", JobKind::kChat, 10'500);
    CHECK(q.remove("d"));
    CHECK(*q.next_deadline_ms() == 11'500);
    CHECK(q.expire(11'000).empty());
    CHECK(ids(q.expire(11'500)) == std::vector<std::string>{"e"});
  }
  SECTION("timeout 0 means jobs wait until removed") {
    JobQueue forever(10, 0);
    forever.push("x", JobKind::kChat, 0);
    CHECK(forever.expire(1'000'000'000).empty());
    CHECK_FALSE(forever.next_deadline_ms().has_value());
  }
}

TEST_CASE("a model list behind thousands of chats, and arrival order across kinds",
          "[broker][queue]") {
  JobQueue q(20'000, 1000);
  for (int i = 0; i < 10'000; ++i) q.push("c" + std::to_string(i), JobKind::kChat, i);
  q.push("m", JobKind::kListModels, 10'000);
  q.push("last", JobKind::kChat, 10'001);
  // Chats blocked: the model list is next (one FIFO per kind, no search).
  REQUIRE(q.first(true, false) != nullptr);
  CHECK(q.first(true, false)->request_id == "m");
  CHECK(q.first(false, false)->request_id == "c0");
  // Draining by first() yields arrival order, kinds interleaved.
  std::vector<std::string> order;
  while (const QueuedJob* j = q.first(false, false)) {
    order.push_back(j->request_id);
    q.remove(order.back());
  }
  REQUIRE(order.size() == 10'002);
  CHECK(order[9'999] == "c9999");
  CHECK(order[10'000] == "m");
  CHECK(order[10'001] == "last");
}
