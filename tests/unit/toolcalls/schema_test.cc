#include "worker/toolcalls/schema.h"

#include <catch2/catch.hpp>

#include "worker/toolcalls/signature.h"
#include "worker/toolcalls/tool_set.h"

using namespace qp::worker::toolcalls;

TEST_CASE("schema keeps types, nullability, enums and required", "[tools][schema]") {
  Schema s = parse_schema_json(R"({"required":["a"],"type":"object","properties":{
      "a":{"type":"string","description":"the a"},
      "b":{"type":["integer","null"]},
      "c":{"type":"string","nullable":true,"enum":["x","y"]},
      "d":{"anyOf":[{"type":"boolean"},{"type":"null"}]},
      "e":{"const":7}}})");
  REQUIRE(s.properties.size() == 5);
  CHECK(s.types == kTypeObject);
  CHECK(s.properties[0].required);
  CHECK_FALSE(s.properties[1].required);
  CHECK(s.properties[0].schema.description == "the a");
  CHECK(s.properties[1].schema.nullable());
  CHECK(s.properties[1].schema.allows(kTypeInteger));
  CHECK_FALSE(s.properties[1].schema.allows(kTypeNumber));
  CHECK(s.properties[2].schema.nullable());
  CHECK(s.properties[2].schema.enum_json == std::vector<std::string>{"\"x\"", "\"y\""});
  CHECK(s.properties[3].schema.any_of.empty());  // folded into the type mask
  CHECK(s.properties[3].schema.types == (kTypeBoolean | kTypeNull));
  CHECK(s.properties[4].schema.enum_json == std::vector<std::string>{"7"});
}

TEST_CASE("schema inlines local $ref and stops on recursion", "[tools][schema]") {
  Schema s = parse_schema_json(R"({"type":"object","$defs":{"P":{"type":"object",
      "properties":{"x":{"type":"number"},"next":{"$ref":"#/$defs/P"}}}},
      "properties":{"p":{"$ref":"#/$defs/P","description":"a point"},
                    "q":{"$ref":"#/definitions/missing"}}})");
  REQUIRE(s.properties.size() == 2);
  const Schema& p = s.properties[0].schema;
  CHECK(p.description == "a point");
  REQUIRE(p.properties.size() == 2);
  CHECK(p.properties[0].schema.types == kTypeNumber);
  CHECK(s.properties[1].schema.any_type());
  // The cyclic $ref is not expanded again: it is "any".
  CHECK(p.properties[1].schema.any_type());
  CHECK(type_signature(p) == "{x?: number, next?: any}");
}

// The attack: 244 bytes whose properties all point back to the root. Each
// $ref was inlined again at each use down to depth 24 (3^24 nodes: seconds of
// CPU and gigabytes). A cyclic $ref is now "any".
TEST_CASE("schema does not expand a $ref back to the root", "[tools][schema][limits]") {
  Schema s = parse_schema_json(
      R"({"type":"object","properties":{"p0":{"$ref":"#"},"p1":{"$ref":"#"},"p2":{"$ref":"#"},
          "p3":{"$ref":"#"}}})");
  REQUIRE(s.properties.size() == 4);
  for (const auto& p : s.properties) CHECK(p.schema.any_type());
  CHECK(node_count(s) == 5);
  CHECK(type_signature(s) == "{p0?: any, p1?: any, p2?: any, p3?: any}");
}

// Without a cycle, $ref fan-out is still exponential: 4 properties each
// pointing to the next level, 12 levels deep, describe 4^12 (16 million)
// nodes in a few hundred bytes. The node budget stops it.
TEST_CASE("schema $ref fan-out is bounded by the node budget", "[tools][schema][limits]") {
  std::string defs;
  for (int i = 0; i < 12; ++i) {
    std::string next = "{\"$ref\":\"#/$defs/L" + std::to_string(i + 1) + "\"}";
    if (!defs.empty()) defs += ",";
    defs += "\"L" + std::to_string(i) + "\":{\"type\":\"object\",\"properties\":{\"a\":" + next +
            ",\"b\":" + next + ",\"c\":" + next + ",\"d\":" + next + "}}";
  }
  std::string json = R"({"$defs":{)" + defs + R"(},"$ref":"#/$defs/L0"})";
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(json).get(e));
  SchemaBudget budget;
  Schema s = parse_schema(e, &budget);
  CHECK(budget.exhausted);
  CHECK(node_count(s) <= kMaxSchemaNodes);
  CHECK_FALSE(s.properties.empty());  // depth-first: what came first is kept
  std::string canon;
  append_canonical(s, &canon);
  CHECK(canon.size() < 64 * kMaxSchemaNodes);
  CHECK(type_signature(s).size() < 64 * kMaxSchemaNodes);
}

// A large description reached through many $ref uses is copied at each use:
// the byte budget bounds the copies.
TEST_CASE("schema text copied through $ref is bounded by the byte budget",
          "[tools][schema][limits]") {
  std::string big(200000, 'x');
  std::string props;
  for (int i = 0; i < 100; ++i) {
    if (i != 0) props += ",";
    props += "\"p" + std::to_string(i) + "\":{\"$ref\":\"#/$defs/D\"}";
  }
  std::string json = R"({"$defs":{"D":{"type":"string","description":")" + big +
                     R"(","default":")" + big + R"("}},"type":"object","properties":{)" + props +
                     "}}";
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(json).get(e));
  SchemaBudget budget;
  Schema s = parse_schema(e, &budget);
  CHECK(budget.exhausted);
  size_t kept = 0;
  for (const auto& p : s.properties)
    kept += p.schema.description.size() + p.schema.default_json.size();
  CHECK(kept <= kMaxSchemaBytes);
  CHECK(kept >= big.size());  // the first uses still carry their text
}

TEST_CASE("schema budget is shared by a tool set", "[tools][schema][limits]") {
  std::string tools = "[";
  for (int i = 0; i < 40; ++i) {
    if (i != 0) tools += ",";
    tools +=
        R"({"type":"function","function":{"name":"t)" + std::to_string(i) +
        R"(","parameters":{"$defs":{"A":{"type":"object","properties":{"a":{"$ref":"#/$defs/B"},"b":{"$ref":"#/$defs/B"},"c":{"$ref":"#/$defs/B"}}},"B":{"type":"object","properties":{"a":{"$ref":"#/$defs/C"},"b":{"$ref":"#/$defs/C"},"c":{"$ref":"#/$defs/C"}}},"C":{"type":"object","properties":{"a":{"$ref":"#/$defs/D"},"b":{"$ref":"#/$defs/D"},"c":{"$ref":"#/$defs/D"}}},"D":{"type":"object","properties":{"a":{"$ref":"#/$defs/E"},"b":{"$ref":"#/$defs/E"},"c":{"$ref":"#/$defs/E"}}},"E":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"},"c":{"type":"string"}}}},"type":"object","properties":{"x":{"$ref":"#/$defs/A"}}}}})";
  }
  tools += "]";
  auto set = parse_tool_set(tools);
  REQUIRE(set.has_value());
  size_t nodes = 0;
  for (const auto& t : set->tools()) nodes += node_count(t.parameters);
  CHECK(set->tools().size() == 40);
  CHECK(nodes <= kMaxSchemaNodes + 40);  // each tool's root defaults to an object node
}

TEST_CASE("schema merges allOf and keeps complex anyOf", "[tools][schema]") {
  Schema s = parse_schema_json(R"({"allOf":[
      {"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},
      {"properties":{"b":{"type":"integer"}},"additionalProperties":false}]})");
  REQUIRE(s.properties.size() == 2);
  CHECK(s.properties[0].required);
  CHECK_FALSE(s.additional_properties);
  Schema u = parse_schema_json(
      R"({"anyOf":[{"type":"object","properties":{"k":{"type":"string"}}},{"type":"array","items":{"type":"string"}},{"type":"null"}]})");
  CHECK(u.any_of.size() == 2);
  CHECK(u.nullable());
}

TEST_CASE("schema parsing never fails on odd input", "[tools][schema]") {
  CHECK(parse_schema_json("not json").any_type());
  CHECK(parse_schema_json("true").any_type());
  CHECK(parse_schema_json(R"({"type":"unknown"})").any_type());
  CHECK(parse_schema_json(R"({"type":["string",3,null]})").types == kTypeString);
  CHECK(parse_schema_json(R"({"items":"x","properties":[1]})").types == kTypeArray);
}

TEST_CASE("canonical form ignores spelling, not content", "[tools][schema]") {
  auto canon = [](const char* json) {
    std::string s;
    append_canonical(parse_schema_json(json), &s);
    return s;
  };
  CHECK(
      canon(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})") ==
      canon(
          R"({ "required" : ["a"], "properties" : {"a" : {"type":"string"}}, "type":"object" })"));
  CHECK(canon(R"({"type":"object","properties":{"a":{"type":"string"}}})") !=
        canon(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})"));
  CHECK(canon(R"({"type":"string","description":"x"})") !=
        canon(R"({"type":"string","description":"y"})"));
}

TEST_CASE("type signatures are compact and keep required and enum", "[tools][signature]") {
  CHECK(type_signature(parse_schema_json(R"({"type":"string"})")) == "string");
  CHECK(type_signature(parse_schema_json(R"({"enum":["a","b",null]})")) == R"("a"|"b"|null)");
  CHECK(type_signature(parse_schema_json(R"({"type":["integer","null"]})")) == "integer|null");
  CHECK(type_signature(parse_schema_json(R"({"type":"array","items":{"type":"string"}})")) ==
        "string[]");
  CHECK(type_signature(parse_schema_json(
            R"({"type":"array","items":{"type":["string","null"]}})")) == "(string|null)[]");
  CHECK(
      type_signature(parse_schema_json(
          R"({"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"string"}},"required":["x"]})")) ==
      "{x: integer, y?: string}");
  CHECK(type_signature(parse_schema_json("{}")) == "any");
  Tool t;
  t.name = "read_file";
  t.parameters = parse_schema_json(R"({"type":"object","properties":{
      "path":{"type":"string","description":"Where\nto read"},
      "files":{"type":"array","items":{"type":"object","properties":{"p":{"type":"string","description":"inner"}}}},
      "n":{"type":"integer","default":5}},"required":["path"]})");
  CHECK(tool_signature(t) == "fn_read_file(path: string, files?: {p?: string}[], n?: integer)");
  CHECK(parameter_notes(t.parameters) ==
        "- path: Where to read\n- files[].p: inner\n- n: (default: 5)\n");
}
