#include "broker/frontend_registry.h"

#include <catch2/catch.hpp>

using qp::broker::FrontendRegistry;
using qp::broker::FrontendSeen;

TEST_CASE("frontends are known from their first message", "[broker][frontends]") {
  FrontendRegistry r(100);  // window 300 ms
  CHECK(r.on_message("f1", 0) == FrontendSeen::kNew);
  CHECK(r.on_message("f1", 0) == FrontendSeen::kKnown);
  CHECK(r.on_hello("f2", "i1", 10) == FrontendSeen::kNew);
  CHECK(r.size() == 2);
  CHECK(r.contains("f1"));
  SECTION("the first named instance is not a restart") {
    CHECK(r.on_hello("f1", "a", 20) == FrontendSeen::kKnown);
    CHECK(r.on_hello("f1", "a", 30) == FrontendSeen::kKnown);
    CHECK(r.on_hello("f1", "", 30) == FrontendSeen::kKnown);
    CHECK(r.on_hello("f1", "b", 40) == FrontendSeen::kRestarted);
    CHECK(r.on_hello("f1", "b", 50) == FrontendSeen::kKnown);
  }
  SECTION("silence for the liveness window expires a frontend") {
    CHECK(r.expire(300).empty());
    auto dead = r.expire(301);
    CHECK(dead == std::vector<std::string>{"f1"});
    CHECK(r.expire(310).empty());
    CHECK(r.expire(311) == std::vector<std::string>{"f2"});
    CHECK(r.size() == 0);
  }
  SECTION("any message keeps it alive") {
    r.on_message("f1", 290);
    CHECK(r.expire(500) == std::vector<std::string>{"f2"});
    CHECK(r.contains("f1"));
  }
  SECTION("remove") {
    CHECK(r.remove("f1"));
    CHECK_FALSE(r.remove("f1"));
    CHECK(r.ids() == std::vector<std::string>{"f2"});
  }
}
