#include "tools/mock-qwen/models.h"

#include <catch2/catch.hpp>
#include <simdjson.h>

using qp::mock::ModelCatalog;

TEST_CASE("the embedded capture has the models tests rely on", "[models]") {
  const ModelCatalog& cat = ModelCatalog::builtin();
  const auto* max = cat.find("qwen3-max");
  REQUIRE(max != nullptr);
  CHECK_FALSE(max->thinking);
  CHECK(max->search);
  CHECK(max->max_context_length == 262144);
  const auto* vl = cat.find("qwen3-vl-plus");
  REQUIRE(vl != nullptr);
  CHECK(vl->thinking);
  CHECK_FALSE(vl->search);
  const auto* coder = cat.find("qwen3-coder-plus");
  REQUIRE(coder != nullptr);
  CHECK(coder->max_context_length == 1048576);
  CHECK(cat.find("gpt-4") == nullptr);
  // The served text is the capture itself: valid JSON with ints in abilities.
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE_FALSE(p.parse(cat.json()).get(doc));
  int64_t thinking = 0;
  REQUIRE_FALSE(doc.at_pointer("/data/1/info/meta/abilities/thinking").get(thinking));
  CHECK(thinking == 1);
}

TEST_CASE("abilities may be bools or ints", "[models]") {
  auto r = ModelCatalog::parse(R"({"data":[
    {"id":"a","info":{"meta":{"abilities":{"thinking":true},"chat_type":["t2t"]}}},
    {"id":"b","info":{"meta":{"abilities":{"thinking":0},"chat_type":["search"]}}},
    {"id":"c"}]})");
  REQUIRE(r.has_value());
  CHECK(r->find("a")->thinking);
  CHECK_FALSE(r->find("b")->thinking);
  CHECK(r->find("b")->search);
  CHECK_FALSE(r->find("c")->thinking);
  CHECK_FALSE(ModelCatalog::parse(R"({"data":[{"name":"no id"}]})").has_value());
  CHECK_FALSE(ModelCatalog::parse("[]").has_value());
}
