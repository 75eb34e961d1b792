#include "worker/toolcalls/arguments.h"

#include <catch2/catch.hpp>

#include "worker/toolcalls/json_repair.h"

using namespace qp::worker::toolcalls;

namespace {

Tool make_tool(const char* schema, bool strict = false) {
  Tool t;
  t.name = "t";
  t.parameters = parse_schema_json(schema);
  t.strict = strict;
  return t;
}

RawCall params(std::vector<RawParam> p) {
  RawCall c;
  c.name = "t";
  c.params = std::move(p);
  return c;
}

RawCall json(const char* args) {
  RawCall c;
  c.name = "t";
  c.has_json = true;
  c.json = args;
  return c;
}

std::string ok(const Tool& t, const RawCall& c) {
  std::string out, err;
  INFO(err);
  bool good = build_arguments(t, c, &out, &err);
  INFO("error: " << err);
  REQUIRE(good);
  return out;
}

std::string bad(const Tool& t, const RawCall& c) {
  std::string out, err;
  REQUIRE_FALSE(build_arguments(t, c, &out, &err));
  return err;
}

const char* kScalars = R"({"type":"object","properties":{
    "s":{"type":"string"},"i":{"type":"integer"},"n":{"type":"number"},"b":{"type":"boolean"},
    "e":{"type":"string","enum":["fast","slow"]},"z":{"type":["integer","null"]}}})";

}  // namespace

TEST_CASE("text parameters are coerced to the schema's types", "[tools][arguments]") {
  Tool t = make_tool(kScalars);
  CHECK(ok(t, params({{"s", "42"}, {"i", " 42 "}, {"n", "4.5"}, {"b", "true"}})) ==
        R"({"s":"42","i":42,"n":4.5,"b":true})");
  CHECK(ok(t, params({{"i", "7.0"}, {"b", "No"}, {"e", "FAST"}, {"z", "null"}})) ==
        R"({"i":7,"b":false,"e":"fast","z":null})");
  CHECK(ok(t, params({{"b", "1"}, {"z", ""}})) == R"({"b":true,"z":null})");
  CHECK(ok(t, params({{"s", "line 1\n  line 2 \"q\" <tag>"}})) ==
        R"({"s":"line 1\n  line 2 \"q\" <tag>"})");
  CHECK(bad(t, params({{"i", "ten"}})).find("i:") == 0);
  CHECK(bad(t, params({{"i", "4.5"}})).find("i:") == 0);
  CHECK(bad(t, params({{"e", "medium"}})) == "e: value not in enum");
  CHECK(bad(t, params({{"b", "maybe"}})).find("b:") == 0);
}

TEST_CASE("JSON arguments are coerced too", "[tools][arguments]") {
  Tool t = make_tool(kScalars);
  CHECK(ok(t, json(R"({"s":7,"i":"3","n":"1e2","b":"false","e":"Slow"})")) ==
        R"({"s":"7","i":3,"n":100.0,"b":false,"e":"slow"})");
  CHECK(ok(t, json(R"({"s":true,"b":1,"i":2.0})")) == R"({"s":"true","i":2,"b":true})");
  CHECK(ok(t, json("  ")) == "{}");
  CHECK(bad(t, json("[1,2]")) == "arguments: not a JSON object");
  CHECK(bad(t, json("nope")) == "arguments: not valid JSON");
  CHECK(bad(t, json(R"({"i":[1]})")).find("i:") == 0);
}

TEST_CASE("arrays and objects come from JSON text or XML", "[tools][arguments]") {
  Tool t = make_tool(R"({"type":"object","properties":{
      "tags":{"type":"array","items":{"type":"string"}},
      "nums":{"type":"array","items":{"type":"integer"}},
      "opts":{"type":"object","properties":{"deep":{"type":"boolean"},"n":{"type":"integer"}}},
      "files":{"type":"array","items":{"type":"object","properties":{
          "path":{"type":"string"},"line_ranges":{"type":"array","items":{"type":"string"}}},
          "required":["path"]}}}})");
  CHECK(ok(t, params({{"tags", R"(["a","b"])"}, {"nums", "[1, \"2\"]"}})) ==
        R"({"tags":["a","b"],"nums":[1,2]})");
  CHECK(ok(t, params({{"tags", "solo"}})) == R"({"tags":["solo"]})");  // one value, one item
  CHECK(ok(t, params({{"opts", R"({"deep":"yes","n":"3",})"}})) ==     // trailing comma repaired
        R"({"opts":{"deep":true,"n":3}})");
  CHECK(ok(t, params({{"opts", "<deep>true</deep><n>4</n>"}})) ==
        R"({"opts":{"deep":true,"n":4}})");
  CHECK(ok(t, params({{"files",
                       "<file><path>a.cc</path><line_ranges>1-5</line_ranges></file>\n"
                       "<file><path>b.cc</path></file>"}})) ==
        R"({"files":[{"path":"a.cc","line_ranges":["1-5"]},{"path":"b.cc"}]})");
  CHECK(ok(t, json(R"({"files":{"path":"x"}})")) == R"({"files":[{"path":"x"}]})");
  CHECK(ok(t, params({{"tags", "<tag>x</tag><tag>y</tag>"}})) == R"({"tags":["x","y"]})");
  CHECK(ok(t, params({{"tags", "<list><t>x</t><t>y</t></list>"}})) == R"({"tags":["x","y"]})");
  CHECK_FALSE(bad(t, params({{"files", "<file><line_ranges>1</line_ranges></file>"}})).empty());
}

TEST_CASE("objects given for a string parameter become JSON text", "[tools][arguments]") {
  Tool t = make_tool(R"({"type":"object","properties":{"arguments":{"type":"string"}}})");
  CHECK(ok(t, json(R"({"arguments":{"a":[1,true]}})")) == R"({"arguments":"{\"a\":[1,true]}"})");
}

TEST_CASE("required, nullable, strict and additionalProperties", "[tools][arguments]") {
  const char* schema = R"({"type":"object","additionalProperties":false,
      "properties":{"a":{"type":"string"},"b":{"type":["string","null"]},"c":{"type":"integer"}},
      "required":["a","b","c"]})";
  SECTION("non-strict: a missing required property fails") {
    Tool t = make_tool(schema);
    CHECK(bad(t, params({{"a", "x"}})) == "c: missing required parameter");
    CHECK(ok(t, params({{"a", "x"}, {"c", "1"}})) == R"({"a":"x","b":null,"c":1})");
    CHECK(bad(t, json(R"({"a":"x","c":null})")) == "c: missing required parameter");
  }
  SECTION("strict: required lists everything, so missing ones are left out") {
    Tool t = make_tool(schema, true);
    CHECK(ok(t, params({{"a", "x"}})) == R"({"a":"x","b":null})");
    CHECK(ok(t, json(R"({"c":null,"b":"y"})")) == R"({"b":"y"})");
  }
  SECTION("undeclared properties are dropped when not allowed, kept otherwise") {
    Tool t = make_tool(schema, true);
    CHECK(ok(t, params({{"a", "x"}, {"zzz", "1"}})) == R"({"a":"x","b":null})");
    Tool open = make_tool(R"({"type":"object","properties":{"a":{"type":"string"}}})");
    CHECK(ok(open, params({{"a", "x"}, {"zzz", "1"}})) == R"({"a":"x","zzz":"1"})");
    CHECK(ok(open, json(R"({"zzz":[1],"a":"x"})")) == R"({"a":"x","zzz":[1]})");
  }
  SECTION("optional nulls for non-nullable values are left out") {
    Tool t = make_tool(R"({"type":"object","properties":{"n":{"type":"integer"}}})");
    CHECK(ok(t, json(R"({"n":null})")) == "{}");
  }
}

TEST_CASE("anyOf alternatives are tried in order", "[tools][arguments]") {
  Tool t = make_tool(R"({"type":"object","properties":{"v":{"anyOf":[
      {"type":"object","properties":{"k":{"type":"integer"}},"required":["k"]},
      {"type":"array","items":{"type":"integer"}}]}}})");
  CHECK(ok(t, json(R"({"v":{"k":"1"}})")) == R"({"v":{"k":1}})");
  CHECK(ok(t, json(R"({"v":["2"]})")) == R"({"v":[2]})");
  CHECK(bad(t, json(R"({"v":"zzz"})")) == "v: matches none of the alternatives");
}

TEST_CASE("untyped schemas keep values as given", "[tools][arguments]") {
  Tool t = make_tool(R"({"type":"object","properties":{"any":{}}})");
  CHECK(ok(t, params({{"any", "42"}})) == R"({"any":"42"})");
  CHECK(ok(t, json(R"({"any":{"x":[1,2]}})")) == R"({"any":{"x":[1,2]}})");
}

TEST_CASE("repair_json fixes what models get wrong", "[tools][arguments]") {
  CHECK(repair_json("{\"a\":\"x\ny\"}") == "{\"a\":\"x\\ny\"}");
  CHECK(repair_json("{\"a\":[1,2,],}") == "{\"a\":[1,2]}");
  CHECK(repair_json("{\"a\":{\"b\":\"cut") == "{\"a\":{\"b\":\"cut\"}}");
  CHECK(repair_json("{\"a\":") == "{\"a\":null}");
  CHECK(repair_json("{\"a\":\"x\\") == "{\"a\":\"x\"}");
  CHECK(repair_json("[\"tab\there\"]") == "[\"tab\\there\"]");
}

// anyOf alternatives are tried for every array item: 1000 alternatives and
// 300 items are 300k attempts (each building paths and scratch strings).
// Coercion now stops at a fixed amount of work and reports it.
TEST_CASE("arguments coercion work is bounded", "[tools][arguments][limits]") {
  std::string alts;
  for (int i = 0; i < 1000; ++i) {
    if (i != 0) alts += ",";
    alts += R"({"type":"object","properties":{"k":{"enum":["v)" + std::to_string(i) + R"("]}}})";
  }
  std::string schema =
      R"({"type":"object","properties":{"xs":{"type":"array","items":{"anyOf":[)" + alts + "]}}}}";
  std::string items;
  for (int i = 0; i < 300; ++i) items += std::string(i ? "," : "") + R"({"k":"v999"})";
  Tool t = make_tool(schema.c_str());
  std::string args = R"({"xs":[)" + items + "]}";
  std::string out, err;
  CHECK_FALSE(build_arguments(t, json(args.c_str()), &out, &err));
  INFO(err);
  CHECK(err.find("too complex") != std::string::npos);
}

TEST_CASE("arguments are always a JSON object, whatever the parameters schema says",
          "[tools][arguments]") {
  // Found by tests/fuzz (tool_arguments): a client's parameters schema of
  // another type ({"type":"string"} is a JSON object, so the frontend lets
  // it through) coerced the arguments object to a JSON string, and the
  // client got tool_calls arguments that are not an object.
  Tool t = make_tool(R"({"type":"string"})");
  CHECK(bad(t, json(R"({"a":1})")) == "arguments: the tool's parameters are not an object schema");
  CHECK(ok(t, params({{"a", "1"}})).front() == '{');  // parameters build an object anyway
  Tool either = make_tool(R"({"type":["string","object"]})");
  CHECK(ok(either, json(R"({"a":1})")) == R"({"a":1})");
}

// Found by fuzzing: values built from XML children were marked "already
// JSON" by a leading \x01 byte, so an item whose text began with that byte
// went into the arguments unquoted (not JSON).
TEST_CASE("text that starts with a control byte stays a JSON string", "[tools][arguments]") {
  Tool t = make_tool(R"({"type":"object","properties":{"q":{"type":"string"},
      "follow_up":{"type":"array","items":{"type":"object","properties":{
        "text":{"type":"string"},"mode":{"type":["string","null"]}}}}}})");
  std::string follow_up = "<suggest mode=\"code\">\x01S</suggest><suggest>two</suggest>";
  CHECK(ok(t, params({{"q", "q"}, {"follow_up", follow_up}})) ==
        R"({"q":"q","follow_up":[{"text":"\u0001S","mode":"code"},{"text":"two"}]})");
}
