// Splitting a CHUNKS batch per frontend (broker/chunk_split.h): pure, no
// sockets. broker_test.cc checks the same through the broker's sockets.
#include "broker/chunk_split.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using namespace qp;
using namespace qp::broker;

namespace {

std::string batch_of(std::initializer_list<std::pair<std::string, std::string>> entries) {
  std::string b;
  for (const auto& [rid, body] : entries) REQUIRE(protocol::append_chunk_entry(&b, rid, body));
  return b;
}

std::vector<std::pair<std::string, std::string>> entries_of(std::string_view batch) {
  std::vector<std::pair<std::string, std::string>> out;
  protocol::ChunkBatchReader r(batch);
  protocol::ChunkEntry e;
  while (r.next(&e)) out.emplace_back(e.request_id, e.body);
  REQUIRE_FALSE(r.malformed());
  return out;
}

// Jobs a* go to frontend-1, b* to frontend-2, anything else is dropped.
// Frontend names are separate strings per lookup (as in the job table):
// compared by value, not by address.
struct Lookup {
  std::vector<std::unique_ptr<std::string>> names;
  std::vector<std::string> asked;
  const std::string* operator()(std::string_view rid) {
    asked.emplace_back(rid);
    if (rid.empty() || (rid[0] != 'a' && rid[0] != 'b')) return nullptr;
    names.push_back(std::make_unique<std::string>(rid[0] == 'a' ? "frontend-1" : "frontend-2"));
    return names.back().get();
  }
};

std::vector<std::pair<std::string, std::string>> split(ChunkRoutes* routes) {
  std::vector<std::pair<std::string, std::string>> out;
  split_chunk_routes(routes, [&](const std::string& fe, std::string_view batch) {
    out.emplace_back(fe, std::string(batch));
  });
  return out;
}

}  // namespace

TEST_CASE("a batch for one frontend is whole", "[broker][chunks]") {
  const std::string batch = batch_of({{"a1", "x"}, {"a2", "yy"}, {"a1", "z"}});
  Lookup lookup;
  ChunkRoutes routes;
  route_chunk_batch(batch, std::ref(lookup), &routes);
  CHECK(routes.whole);
  CHECK_FALSE(routes.malformed);
  REQUIRE(routes.entries.size() == 3);
  CHECK(*routes.entries[0].frontend == "frontend-1");
  CHECK(lookup.asked == std::vector<std::string>{"a1", "a2", "a1"});
}

TEST_CASE("a mixed batch splits per frontend, in order, dropping unknown jobs",
          "[broker][chunks]") {
  const std::string batch =
      batch_of({{"a1", "1"}, {"b1", "2"}, {"x9", "drop"}, {"a2", "3"}, {"b1", "4"}, {"a1", "5"}});
  Lookup lookup;
  ChunkRoutes routes;
  route_chunk_batch(batch, std::ref(lookup), &routes);
  CHECK_FALSE(routes.whole);
  REQUIRE(routes.entries.size() == 5);
  auto out = split(&routes);
  REQUIRE(out.size() == 2);
  CHECK(out[0].first == "frontend-1");
  CHECK(entries_of(out[0].second) ==
        std::vector<std::pair<std::string, std::string>>{{"a1", "1"}, {"a2", "3"}, {"a1", "5"}});
  CHECK(out[1].first == "frontend-2");
  CHECK(entries_of(out[1].second) ==
        std::vector<std::pair<std::string, std::string>>{{"b1", "2"}, {"b1", "4"}});
  // Entry bytes are copied as they were: a frontend's batch is its entries concatenated.
  CHECK(out[1].second == batch_of({{"b1", "2"}, {"b1", "4"}}));
}

TEST_CASE("one frontend's entries with a dropped one are not whole", "[broker][chunks]") {
  const std::string batch = batch_of({{"a1", "1"}, {"x", "drop"}, {"a1", "2"}});
  Lookup lookup;
  ChunkRoutes routes;
  route_chunk_batch(batch, std::ref(lookup), &routes);
  CHECK_FALSE(routes.whole);
  auto out = split(&routes);
  REQUIRE(out.size() == 1);
  CHECK(out[0].second == batch_of({{"a1", "1"}, {"a1", "2"}}));
}

TEST_CASE("a malformed tail is reported and the entries before it still routed",
          "[broker][chunks]") {
  std::string batch = batch_of({{"a1", "1"}, {"a1", "2"}});
  batch += batch_of({{"a1", "truncated"}}).substr(0, 6);
  Lookup lookup;
  ChunkRoutes routes;
  route_chunk_batch(batch, std::ref(lookup), &routes);
  CHECK(routes.malformed);
  CHECK_FALSE(routes.whole);  // not forwarded as received: the tail must not reach a frontend
  auto out = split(&routes);
  REQUIRE(out.size() == 1);
  CHECK(out[0].second == batch_of({{"a1", "1"}, {"a1", "2"}}));
}

TEST_CASE("an empty or fully dropped batch routes nothing", "[broker][chunks]") {
  Lookup lookup;
  ChunkRoutes routes;
  route_chunk_batch("", std::ref(lookup), &routes);
  CHECK(routes.entries.empty());
  CHECK_FALSE(routes.whole);
  route_chunk_batch(batch_of({{"x", "1"}}), std::ref(lookup), &routes);
  CHECK(routes.entries.empty());
  CHECK_FALSE(routes.whole);
  CHECK(split(&routes).empty());
}
