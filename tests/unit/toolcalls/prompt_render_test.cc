#include "worker/toolcalls/prompt_render.h"

#include <catch2/catch.hpp>

#include "toolcalls_test_util.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

namespace {
bool has(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("the tool section lists prefixed signatures and the call syntax", "[tools][prompt]") {
  std::string s = render_tool_section(native_plan());
  INFO(s);
  CHECK(has(s,
            "## fn_read_file(path: string, mode: \"slice\"|\"indentation\"|null, "
            "offset: integer|null, limit: integer|null)\n"
            "Read a file from the workspace and return its numbered lines.\n"));
  CHECK(has(s, "- path: File path relative to the workspace root\n"));
  CHECK(has(s,
            "## fn_mcp--weather--forecast(city: string, days?: integer, "
            "units?: \"metric\"|\"imperial\")"));
  CHECK(has(s, "- days: (default: 3)"));
  CHECK(has(s, "follow_up: {text: string, mode: string|null}[]"));
  CHECK(has(s,
            "<tool_call>\n<function=fn_example_tool>\n<parameter=example_parameter>\nvalue\n"
            "</parameter>\n</function>\n</tool_call>"));
  CHECK(has(s, "Tool names start with \"fn_\""));
  CHECK(has(s, "several tools in one reply"));
  CHECK(has(s, "otherwise answer directly"));
  CHECK_FALSE(has(s, "must call"));
  // Far smaller than the JSON Schema it replaces.
  CHECK(s.size() < testdata("native_tools.json").size());
}

TEST_CASE("the tool section follows tool_choice and parallel_tool_calls", "[tools][prompt]") {
  CHECK(has(render_tool_section(native_plan("\"required\"")),
            "You must call at least one tool in this reply."));
  CHECK(has(
      render_tool_section(native_plan(R"({"type":"function","function":{"name":"list_files"}})")),
      "You must call fn_list_files in this reply."));
  CHECK(has(render_tool_section(native_plan("", false)), "Call at most one tool per reply."));
  std::string roo = render_tool_section(roo_plan());
  CHECK(has(roo,
            "Every reply must call a tool. To give your final answer, call "
            "fn_attempt_completion"));
  CHECK_FALSE(has(roo, "otherwise answer directly"));
  CHECK(render_tool_section(native_plan("\"none\"")).empty());
  CHECK(render_tool_section(xml_plan()).empty());
}

TEST_CASE("retry instruction and XML reminder", "[tools][prompt]") {
  CHECK(has(render_retry_instruction(native_plan("\"required\"")), "did not call a tool"));
  CHECK(has(render_retry_instruction(
                native_plan(R"({"type":"function","function":{"name":"read_file"}})")),
            "a call to fn_read_file"));
  CHECK(has(render_xml_reminder(xml_plan()), "exactly one tool use"));
  CHECK(render_xml_reminder(native_plan()).empty());
}

TEST_CASE("assistant tool calls replay in the call syntax", "[tools][prompt]") {
  std::string s = render_assistant_tool_calls(
      R"([{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a.cc\",\"limit\":5,\"opts\":{\"x\":true}}"}},
          {"id":"call_2","type":"function","function":{"name":"list_files","arguments":"not json"}}])");
  CHECK(s ==
        "<tool_call>\n<function=fn_read_file>\n<parameter=path>\na.cc\n</parameter>\n"
        "<parameter=limit>\n5\n</parameter>\n<parameter=opts>\n{\"x\":true}\n</parameter>\n"
        "</function>\n</tool_call>\n"
        "<tool_call>\n<function=fn_list_files>\n<parameter=arguments>\nnot json\n</parameter>\n"
        "</function>\n</tool_call>");
  CHECK(render_assistant_tool_calls("garbage") == "garbage");
  // What we render parses back to the same call.
  ToolPlan plan = native_plan();
  auto o = run_whole(plan, render_assistant_tool_calls(
                               R"([{"id":"c","type":"function","function":{"name":"list_files",)"
                               R"("arguments":"{\"path\":\"src\",\"recursive\":true}"}}])"));
  REQUIRE(o.calls.size() == 1);
  CHECK(o.calls[0].arguments == R"({"path":"src","recursive":true})");
}

TEST_CASE("tool results are labelled blocks matched by id", "[tools][prompt]") {
  CallNames names;
  names.add(
      R"([{"id":"call_a","type":"function","function":{"name":"read_file","arguments":"{}"}}])");
  names.add("not json");
  CHECK(names.find("call_a") == "read_file");
  CHECK(names.find("call_b").empty());
  CHECK(render_tool_result("call_a", names.find("call_a"), "line 1\nline 2") ==
        "<tool_response name=\"fn_read_file\" id=\"call_a\">\nline 1\nline 2\n</tool_response>");
  CHECK(render_tool_result("x\"y", "", "") == "<tool_response id=\"xy\">\n\n</tool_response>");
}
