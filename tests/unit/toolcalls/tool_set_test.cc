#include "worker/toolcalls/tool_set.h"

#include <catch2/catch.hpp>

#include "toolcalls_test_util.h"
#include "worker/toolcalls/tool_plan.h"
#include "worker/toolcalls/xml_catalog.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

TEST_CASE("tool set parses function tools and finds them by either name", "[tools][tool_set]") {
  auto set = parse_tool_set(R"([
      {"type":"function","function":{"name":"get_weather","description":"Weather","strict":true,
       "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
      {"type":"custom","custom":{"name":"other"}},
      {"type":"function","function":{"name":"no_params"}}])");
  REQUIRE(set.has_value());
  REQUIRE(set->tools().size() == 2);
  CHECK(set->tools()[0].strict);
  CHECK(set->tools()[0].description == "Weather");
  CHECK(set->tools()[1].parameters.types == kTypeObject);
  CHECK(set->find("get_weather") == &set->tools()[0]);
  CHECK(set->find("fn_get_weather") == &set->tools()[0]);
  CHECK(set->find("fn_no_params") == &set->tools()[1]);
  CHECK(set->find("weather") == nullptr);
  CHECK(set->find("fn_") == nullptr);
  CHECK(ToolSet::upstream_name("x") == "fn_x");
  CHECK_FALSE(parse_tool_set("{}").has_value());
  CHECK(parse_tool_set("").value().empty());
}

TEST_CASE("a tool named with the prefix is still found", "[tools][tool_set]") {
  auto set = parse_tool_set(R"([{"type":"function","function":{"name":"fn_x"}},
                                {"type":"function","function":{"name":"x"}}])");
  REQUIRE(set.has_value());
  CHECK(set->find("fn_fn_x")->name == "fn_x");  // what the prompt shows for fn_x
  CHECK(set->find("fn_x")->name == "x");        // what the prompt shows for x
}

TEST_CASE("tool-set hash is stable under spelling and changes with content", "[tools][tool_set]") {
  auto h = [](const char* json) { return parse_tool_set(json).value().hash(); };
  const char* a = R"([{"type":"function","function":{"name":"f","parameters":{"type":"object",
      "properties":{"x":{"type":"string"}},"required":["x"]}}}])";
  const char* b = R"([ { "function" : { "parameters" : { "required" : ["x"], "type" : "object",
      "properties" : { "x" : { "type" : "string" } } }, "name" : "f" }, "type" : "function" } ])";
  CHECK(h(a) == h(b));
  CHECK(h(a) != 0);
  CHECK(h("[]") == 0);
  CHECK(h(a) != h(R"([{"type":"function","function":{"name":"g","parameters":{"type":"object",
      "properties":{"x":{"type":"string"}},"required":["x"]}}}])"));
  CHECK(h(a) != h(R"([{"type":"function","function":{"name":"f","description":"new",
      "parameters":{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}}}])"));
  CHECK(parse_tool_set(a).value().hash_hex().size() == 16);
}

TEST_CASE("tool_choice parses every OpenAI form", "[tools][tool_set]") {
  CHECK(parse_tool_choice("").mode == ToolChoice::Mode::kAuto);
  CHECK(parse_tool_choice("\"auto\"").mode == ToolChoice::Mode::kAuto);
  CHECK(parse_tool_choice("\"none\"").mode == ToolChoice::Mode::kNone);
  CHECK(parse_tool_choice("\"required\"").mode == ToolChoice::Mode::kRequired);
  auto named = parse_tool_choice(R"({"type":"function","function":{"name":"f"}})");
  CHECK(named.mode == ToolChoice::Mode::kNamed);
  CHECK(named.name == "f");
  CHECK(parse_tool_choice("{garbage").mode == ToolChoice::Mode::kAuto);
}

TEST_CASE("plan_tools picks the mode", "[tools][plan]") {
  SECTION("no tools, no catalogue: off") {
    qp::protocol::JobRequest job;
    job.messages.push_back({"system", "You are helpful.", "", "", ""});
    CHECK(plan_tools(job).value().mode == ToolMode::kOff);
  }
  SECTION("tools: native, auto, parallel") {
    ToolPlan p = native_plan();
    CHECK(p.mode == ToolMode::kNative);
    CHECK_FALSE(p.roo);
    CHECK_FALSE(p.guaranteed());
    CHECK_FALSE(p.single_call());
    CHECK(p.completion_tool() != nullptr);
  }
  SECTION("tool_choice none: off") { CHECK(native_plan("\"none\"").mode == ToolMode::kOff); }
  SECTION("required and named must call; named and parallel=false call once") {
    CHECK(native_plan("\"required\"").must_call());
    CHECK_FALSE(native_plan("\"required\"").single_call());
    ToolPlan named = native_plan(R"({"type":"function","function":{"name":"read_file"}})");
    CHECK(named.must_call());
    CHECK(named.single_call());
    CHECK(native_plan("", false).single_call());
    // A named tool that does not exist (the frontend rejects it) degrades to required.
    CHECK(native_plan(R"({"type":"function","function":{"name":"nope"}})").choice.mode ==
          ToolChoice::Mode::kRequired);
  }
  SECTION("Roo Code native: attempt_completion tool and Roo's prompt") {
    ToolPlan p = roo_plan();
    CHECK(p.roo);
    CHECK(p.guaranteed());
    CHECK_FALSE(p.must_call());
  }
  SECTION("Roo Code XML: no tools and the XML catalogue") {
    ToolPlan p = xml_plan();
    CHECK(p.mode == ToolMode::kXml);
    CHECK(p.guaranteed());
    CHECK(p.catalog.has_tool("read_file"));
    CHECK(p.catalog.has_tool("switch_mode"));
    CHECK(p.catalog.has_tool("attempt_completion"));
    CHECK_FALSE(p.catalog.has_tool("use_mcp_tool"));  // not in this catalogue
    CHECK_FALSE(p.catalog.has_tool("actual_tool_name"));
    CHECK(p.catalog.has_param("content"));
    CHECK(p.catalog.has_param("line_count"));
  }
}

TEST_CASE("XML catalogue detection needs Roo's wording", "[tools][plan]") {
  CHECK(is_roo_xml_prompt(testdata("roo_xml_system_prompt.txt")));
  CHECK_FALSE(is_roo_xml_prompt(testdata("roo_native_system_prompt.txt")));
  CHECK_FALSE(is_roo_xml_prompt("Use <attempt_completion> when done."));
  CHECK(is_roo_system_prompt(testdata("roo_native_system_prompt.txt")));
  CHECK_FALSE(is_roo_system_prompt("You are a helpful assistant."));
}
