#include "worker/response_format.h"

#include <catch2/catch.hpp>

using qp::worker::response_format_instruction;

TEST_CASE("response_format becomes a prompt instruction", "[response_format]") {
  CHECK(response_format_instruction("").empty());
  CHECK(response_format_instruction(R"({"type":"text"})").empty());
  CHECK(response_format_instruction("not json").empty());
  std::string obj = response_format_instruction(R"({"type":"json_object"})");
  CHECK(obj.find("one valid JSON object") != std::string::npos);
  std::string schema = response_format_instruction(
      R"({"type":"json_schema","json_schema":{"name":"person","schema":{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}}})");
  CHECK(schema.find("Schema name: person") != std::string::npos);
  CHECK(
      schema.find(
          R"(JSON Schema: {"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]})") !=
      std::string::npos);
}
