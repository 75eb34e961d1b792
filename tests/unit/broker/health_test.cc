#include "broker/health.h"

#include <catch2/catch.hpp>

#include "common/protocol/messages.h"

using qp::broker::can_list_models;
using qp::broker::classify_health;
using qp::broker::describe_health;
using qp::broker::HealthClass;
using qp::broker::seconds_until;
namespace protocol = qp::protocol;

TEST_CASE("classify_health sorts the reported states", "[broker][health]") {
  const int64_t now = 1'000'000;
  CHECK(classify_health(protocol::kHealthOk, 0, now) == HealthClass::kOk);
  CHECK(classify_health(protocol::kHealthNeedsVerification, 0, now) == HealthClass::kPermanent);
  CHECK(classify_health(protocol::kHealthCredentialsInvalid, 0, now) == HealthClass::kPermanent);
  CHECK(classify_health(protocol::kHealthUnreachable, 0, now) == HealthClass::kTransient);
  CHECK(classify_health("something_new", 0, now) == HealthClass::kTransient);
  CHECK(classify_health("", 0, now) == HealthClass::kTransient);
  SECTION("a rate limit counts until it lifts") {
    CHECK(classify_health(protocol::kHealthRateLimited, now + 1, now) == HealthClass::kRateLimited);
    CHECK(classify_health(protocol::kHealthRateLimited, now, now) == HealthClass::kOk);
    CHECK(classify_health(protocol::kHealthRateLimited, now - 1, now) == HealthClass::kOk);
  }
  SECTION("a rate limit of unknown length stays") {
    CHECK(classify_health(protocol::kHealthRateLimited, 0, now) == HealthClass::kRateLimited);
  }
}

TEST_CASE("only rejected credentials prevent listing models", "[broker][health]") {
  CHECK(can_list_models(protocol::kHealthOk));
  CHECK(can_list_models(protocol::kHealthRateLimited));
  CHECK(can_list_models(protocol::kHealthNeedsVerification));
  CHECK(can_list_models(protocol::kHealthUnreachable));
  CHECK_FALSE(can_list_models(protocol::kHealthCredentialsInvalid));
}

TEST_CASE("seconds_until rounds up and is at least one", "[broker][health]") {
  CHECK(seconds_until(10'000, 10'000) == 1);
  CHECK(seconds_until(9'000, 10'000) == 1);
  CHECK(seconds_until(10'001, 10'000) == 1);
  CHECK(seconds_until(11'000, 10'000) == 1);
  CHECK(seconds_until(11'001, 10'000) == 2);
  CHECK(seconds_until(52'000, 10'000) == 42);
}

TEST_CASE("describe_health explains each state", "[broker][health]") {
  const int64_t now = 1'000'000;
  CHECK(describe_health("alice", protocol::kHealthNeedsVerification, 0, now) ==
        "account alice needs human verification");
  CHECK(describe_health("bob", protocol::kHealthCredentialsInvalid, 0, now) ==
        "account bob's credentials were rejected");
  CHECK(describe_health("carol", protocol::kHealthRateLimited, now + 41'500, now) ==
        "account carol is rate limited for 42 s more");
  CHECK(describe_health("carol", protocol::kHealthRateLimited, 0, now) ==
        "account carol is rate limited");
  CHECK(describe_health("dave", protocol::kHealthUnreachable, 0, now) ==
        "account dave cannot reach the Qwen service");
  CHECK(describe_health("", protocol::kHealthOk, 0, now) == "account (unnamed) is available");
  SECTION("unknown values are quoted, bounded and made printable") {
    CHECK(describe_health("eve", "weird\nstate", 0, now) ==
          "account eve reports health 'weird?state'");
    std::string long_value(100, 'x');
    CHECK(describe_health("eve", long_value, 0, now) ==
          "account eve reports health '" + std::string(40, 'x') + "'");
  }
}
