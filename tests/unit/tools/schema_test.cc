#include "worker/tools/schema.h"

#include <catch2/catch.hpp>

#include "worker/tools/signature.h"

using namespace qp::worker::tools;

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
  // Recursion ends in "any" after the depth limit instead of looping.
  const Schema* cur = &p;
  int depth = 0;
  while (!cur->properties.empty()) {
    cur = &cur->properties[1].schema;
    ++depth;
  }
  CHECK(depth > 3);
  CHECK(depth < 40);
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
