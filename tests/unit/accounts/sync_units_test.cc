#include "tools/account/sync_units.h"

#include <catch2/catch.hpp>

using qp::account_tool::worker_unit;
using qp::account_tool::worker_unit_account;

TEST_CASE("sync-units: worker unit names and back", "[accounts]") {
  CHECK(worker_unit("alice") == "qwenproxy-worker@alice.service");
  CHECK(worker_unit_account("qwenproxy-worker@alice.service") ==
        std::optional<std::string>("alice"));
  CHECK(worker_unit_account("qwenproxy-worker@bob-2.work.service") ==
        std::optional<std::string>("bob-2.work"));
  CHECK_FALSE(worker_unit_account("qwenproxy-worker@.service"));         // the template
  CHECK_FALSE(worker_unit_account("qwenproxy-broker.service"));          // not a worker
  CHECK_FALSE(worker_unit_account("qwenproxy-worker@a.socket"));         // not a service
  CHECK_FALSE(worker_unit_account("qwenproxy-worker@a\\x2fb.service"));  // escaped: not ours
  CHECK_FALSE(worker_unit_account("qwenproxy-worker@.hidden.service"));
}
