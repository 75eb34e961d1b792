#include "tools/account/report.h"

#include <catch2/catch.hpp>

#include "test_util.h"
#include "tools/account/time_text.h"

using namespace qp;
using namespace qp::account_tool;
using qp::test::kNow;

TEST_CASE("times are shown with their two largest units", "[accounts][report]") {
  CHECK(duration_text(30) == "30 s");
  CHECK(duration_text(42 * 60 + 5) == "42 min");
  CHECK(duration_text(5 * 3600 + 12 * 60) == "5 h 12 min");
  CHECK(duration_text(6 * 86400 + 23 * 3600 + 59) == "6 d 23 h");
  CHECK(utc_text(kNow) == "2026-01-01 00:00 UTC");
  CHECK(expiry_text(kNow + 3600, kNow) == "expires 2026-01-01 01:00 UTC (in 1 h 0 min)");
  CHECK(expiry_text(kNow - 120, kNow) == "EXPIRED 2025-12-31 23:58 UTC (2 min ago)");
  CHECK(expiry_text(0, kNow) == "no expiry known");
}

TEST_CASE("format_table aligns columns", "[accounts][report]") {
  CHECK(format_table({{"A", "BB", "C"}, {"long", "x", ""}}) == "A     BB  C\nlong  x\n");
}

TEST_CASE("/health is parsed, unknown account fields are kept", "[accounts][report]") {
  auto r = parse_health(R"({"status":"degraded","draining":false,
    "broker":{"connected":true,"instance":"b1"},"workers":2,"queued":1,"in_flight":3,
    "accounts":[
      {"name":"alice","health":"ok","capacity":4,"in_flight":2,"token_expires_in_s":90000,"token_expiring_soon":false},
      {"name":"bob","health":"rate_limited","capacity":4,"in_flight":0,"token_expires_in_s":null,"retry_at_unix_s":1767229200,"detail":"quota"}],
    "future":{"x":1}})");
  REQUIRE(r.has_value());
  CHECK(r->status == "degraded");
  CHECK(r->broker_connected);
  CHECK(r->workers == 2);
  CHECK(r->queued == 1);
  CHECK(r->in_flight == 3);
  REQUIRE(r->accounts.size() == 2);
  CHECK(r->accounts[0].token_expires_in_s == 90000);
  CHECK_FALSE(r->accounts[1].token_expires_in_s.has_value());
  CHECK(r->accounts[1].extra == std::vector<std::pair<std::string, std::string>>{
                                    {"retry_at_unix_s", "1767229200"}, {"detail", "quota"}});
  std::string text = status_text(r.value(), "http://127.0.0.1:8080", {"alice", "bob", "carol"});
  CHECK(text ==
        "qwenproxy: service degraded at http://127.0.0.1:8080: broker connected, 2 worker(s), 1 "
        "queued, 3 in flight\n"
        "ACCOUNT  HEALTH        IN FLIGHT  TOKEN               DETAIL\n"
        "alice    ok            2/4        expires in 1 d 1 h\n"
        "bob      rate_limited  0/4        -                   retry_at_unix_s=1767229200 "
        "detail=quota\n"
        "carol    no worker     -          -                   configured, but no worker "
        "reports it\n");
  CHECK_FALSE(parse_health("not json").has_value());
  CHECK_FALSE(parse_health("{\"accounts\":[]}").has_value());
  CHECK_FALSE(parse_health("{\"status\":\"ok\",\"workers\":\"x\"}").has_value());
}

TEST_CASE("list_text shows state, expiry and problems", "[accounts][report]") {
  std::vector<accounts::LoadedAccount> v(4);
  v[0].account.name = "alice";
  v[0].source = "/a/alice.toml";
  v[0].facts.token_expires_unix_s = kNow + 7 * 86400;
  v[1].account.name = "bob";
  v[1].source = "/a/bob.toml";
  v[1].status = error(Code::kInvalidArgument, "/a/bob.toml: no session token");
  v[2].account.name = "carol";
  v[2].source = "/a/carol.toml";
  v[2].facts.token_expires_unix_s = kNow + 3600;
  v[3].account.name = "dave";
  v[3].source = "/a/dave.toml";
  v[3].facts.token_expires_unix_s = kNow - 60;
  accounts::AccountDirListing listing;
  listing.exists = true;
  listing.ignored = {"bad name.toml"};
  std::string text = list_text(v, "/a", listing, kNow);
  CHECK(text ==
        "ACCOUNT  STATE     TOKEN                                        SOURCE\n"
        "alice    ok        expires 2026-01-08 00:00 UTC (in 7 d 0 h)    /a/alice.toml\n"
        "bob      invalid   -                                            /a/bob.toml\n"
        "carol    expiring  expires 2026-01-01 01:00 UTC (in 1 h 0 min)  /a/carol.toml\n"
        "dave     expired   EXPIRED 2025-12-31 23:59 UTC (1 min ago)     /a/dave.toml\n"
        "  problem: bob: /a/bob.toml: no session token\n"
        "  warning: /a/bad name.toml is ignored: an account name may contain only letters, "
        "digits, '-', '_' and '.'\n");
  CHECK(account_usable(v[0], kNow));
  CHECK_FALSE(account_usable(v[1], kNow));
  CHECK(account_usable(v[2], kNow));
  CHECK_FALSE(account_usable(v[3], kNow));
  v[3].account.email = "d@example.com";
  CHECK(account_usable(v[3], kNow));
  CHECK(list_text({}, "/a", {}, kNow) ==
        "qwenproxy: no account configured (accounts directory: /a, which does not exist); add "
        "one with `qwenproxy account import NAME`\n");
}
