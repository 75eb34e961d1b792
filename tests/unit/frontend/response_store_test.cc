// The Responses API store: put/find, the TTL, eviction of the oldest beyond
// max_entries, persistence across reopening, and a private file.
#include "frontend/responses/response_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace qp::frontend::responses;

namespace {
std::string temp_db() {
  char dir[] = "/tmp/qp-response-store-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  return std::string(dir) + "/responses.db";
}
}  // namespace

TEST_CASE("response store: put, find, TTL") {
  auto store = ResponseStore::open(":memory:", 1000, 10);
  REQUIRE(store);
  CHECK_FALSE(store->persistent());
  store->put("resp_1", R"({"id":"resp_1"})", R"([{"type":"message"}])", 10'000);
  auto r = store->find("resp_1", 10'500);
  REQUIRE(r);
  CHECK(r->response_json == R"({"id":"resp_1"})");
  CHECK(r->items_json == R"([{"type":"message"}])");
  CHECK(r->created_unix_ms == 10'000);
  CHECK_FALSE(store->find("resp_2", 10'500));
  CHECK_FALSE(store->find("resp_1", 11'001));  // expired
  CHECK(store->evict(11'001) == 1);
  CHECK(store->size() == 0);
}

TEST_CASE("response store: an entry over the size bound is not stored") {
  auto store = ResponseStore::open(":memory:", 1000, 10);
  REQUIRE(store);
  std::string big(kMaxEntryBytes, 'x');
  CHECK_FALSE(store->put("resp_big", "{}", big, 1));
  CHECK_FALSE(store->find("resp_big", 2));
  CHECK(store->put("resp_small", "{}", "[]", 1));
}

TEST_CASE("response store: the oldest beyond max_entries are deleted") {
  auto store = ResponseStore::open(":memory:", 1'000'000, 3);
  REQUIRE(store);
  for (int i = 0; i < 5; ++i) store->put("resp_" + std::to_string(i), "{}", "[]", 1000 + i);
  CHECK(store->size() == 3);
  CHECK_FALSE(store->find("resp_0", 2000));
  CHECK_FALSE(store->find("resp_1", 2000));
  CHECK(store->find("resp_2", 2000));
  CHECK(store->find("resp_4", 2000));
}

TEST_CASE("response store: persists across reopening, in a private file") {
  std::string path = temp_db();
  {
    auto store = ResponseStore::open(path, 60'000, 10);
    REQUIRE(store);
    CHECK(store->persistent());
    store->put("resp_x", R"({"id":"resp_x"})", "[]", 5000);
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
  auto again = ResponseStore::open(path, 60'000, 10);
  REQUIRE(again);
  CHECK(again->size() == 1);
  CHECK(again->find("resp_x", 6000));
}

TEST_CASE("response store: an unusable path falls back to memory") {
  auto store = ResponseStore::open("/nonexistent-dir/qp/responses.db", 1000, 10);
  REQUIRE(store);
  CHECK_FALSE(store->persistent());
  store->put("resp_1", "{}", "[]", 1);
  CHECK(store->find("resp_1", 2));
}

TEST_CASE("response store: a file that is not a database is set aside") {
  std::string path = temp_db();
  {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("this is not an SQLite database, just some text that is long enough........", f);
    std::fclose(f);
  }
  auto store = ResponseStore::open(path, 1000, 10);
  REQUIRE(store);
  CHECK(store->persistent());
  store->put("resp_1", "{}", "[]", 1);
  CHECK(store->find("resp_1", 2));
}
