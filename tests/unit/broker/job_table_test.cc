#include "broker/job_table.h"

#include <algorithm>

#include <catch2/catch.hpp>

using qp::broker::Job;
using qp::broker::JobTable;
using qp::protocol::JobKind;

namespace {
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("the job table indexes jobs by request id", "[broker][jobs]") {
  JobTable t;
  Job* a = t.add("r1", "f1", JobKind::kChat, 5);
  REQUIRE(a != nullptr);
  CHECK(a->request_id == "r1");
  CHECK(a->frontend == "f1");
  CHECK(a->received_ms == 5);
  CHECK(a->worker.empty());
  SECTION("request ids are unique across frontends") {
    CHECK(t.add("r1", "f1", JobKind::kChat, 6) == nullptr);
    CHECK(t.add("r1", "f2", JobKind::kChat, 6) == nullptr);
    CHECK(t.size() == 1);
  }
  REQUIRE(t.add("r2", "f1", JobKind::kListModels, 6) != nullptr);
  REQUIRE(t.add("r3", "f2", JobKind::kChat, 7) != nullptr);
  t.find("r1")->worker = "w1";
  t.find("r3")->worker = "w1";
  CHECK(sorted(t.of_worker("w1")) == std::vector<std::string>{"r1", "r3"});
  CHECK(t.of_worker("w2").empty());
  CHECK(t.of_worker("").empty());  // queued jobs belong to no worker
  CHECK(sorted(t.of_frontend("f1")) == std::vector<std::string>{"r1", "r2"});
  CHECK(sorted(t.all()) == std::vector<std::string>{"r1", "r2", "r3"});
  CHECK(t.remove("r1"));
  CHECK_FALSE(t.remove("r1"));
  CHECK(t.find("r1") == nullptr);
  CHECK(t.size() == 2);
}

TEST_CASE("tombstones remember cancelled request ids for a while", "[broker][jobs]") {
  JobTable t(1000);
  t.remember_cancelled("r1", 0);
  t.remember_cancelled("r2", 500);
  CHECK(t.was_cancelled("r1"));
  CHECK_FALSE(t.was_cancelled("r3"));
  t.purge_cancelled(999);
  CHECK(t.cancelled_size() == 2);
  t.purge_cancelled(1000);
  CHECK_FALSE(t.was_cancelled("r1"));
  CHECK(t.was_cancelled("r2"));
  t.forget_cancelled("r2");
  CHECK(t.cancelled_size() == 0);
  SECTION("a new job with a cancelled id clears its tombstone") {
    t.remember_cancelled("r4", 2000);
    REQUIRE(t.add("r4", "f", JobKind::kChat, 2001) != nullptr);
    CHECK_FALSE(t.was_cancelled("r4"));
  }
}
