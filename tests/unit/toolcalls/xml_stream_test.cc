#include "worker/toolcalls/xml_stream.h"

#include <catch2/catch.hpp>

#include "roo_sim.h"
#include "toolcalls_test_util.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

TEST_CASE("XML mode holds a call until it closes and stops at its end", "[tools][xml]") {
  ToolPlan plan = xml_plan();
  auto stream = make_tool_stream(plan, {});
  StreamOutput out;
  stream->feed("Let me check.\n<read_file>\n<path>src/", &out);
  CHECK(out.text() == "Let me check.\n");
  out.clear();
  stream->feed("a.cc</path>\n</read_fi", &out);
  CHECK(out.text().empty());
  CHECK_FALSE(stream->stop_upstream());
  out.clear();
  stream->feed("le>\n\nAnd then more.", &out);
  CHECK(out.text() == "<read_file>\n<path>src/a.cc</path>\n</read_file>");
  CHECK(stream->stop_upstream());
  out.clear();
  stream->feed("ignored", &out);
  stream->finish(&out);
  CHECK(out.chunks.empty());
}

TEST_CASE("XML mode: a call cut off inside a value is text, never run", "[tools][xml]") {
  ToolPlan plan = xml_plan();
  std::string cut = "Cleaning up.\n<execute_command>\n<command>rm -rf build/cach";
  for (size_t at = 0; at <= cut.size(); ++at) {
    Outcome o = run_split(plan, cut, at);
    INFO("split at " << at << "\n" << describe(o));
    auto blocks = roo_parse(o.content, plan.catalog.tools, plan.catalog.params);
    REQUIRE(count_tools(blocks) == 1);
    for (const auto& b : blocks) {
      if (b.tool) CHECK(b.name == "attempt_completion");
    }
    CHECK(o.content.find("rm -rf build/cach") != std::string::npos);
  }
  // Cut between values, or inside a closing tag: closed so it parses.
  Outcome o = run_whole(plan, "<execute_command>\n<command>ls</comm");
  CHECK(o.content == "<execute_command>\n<command>ls</command>\n</execute_command>");
}

TEST_CASE("XML mode: a call longer than max_call_bytes streams", "[tools][xml]") {
  ToolPlan plan = xml_plan();
  StreamOptions opt;
  opt.max_call_bytes = 32;
  auto stream = make_tool_stream(plan, opt);
  StreamOutput out;
  stream->feed("<write_to_file>\n<path>a.txt</path>\n<content>\nline one\n", &out);
  CHECK(out.text() == "<write_to_file>\n<path>a.txt</path>\n<content>\nline one\n");
  CHECK(out.warnings.size() == 1);
  out.clear();
  stream->feed("line two\n", &out);
  CHECK(out.text() == "line two\n");
}

TEST_CASE("XML mode holds plain text only up to the lookahead", "[tools][xml]") {
  ToolPlan plan = xml_plan();
  StreamOptions opt;
  opt.xml_lookahead_bytes = 16;
  auto stream = make_tool_stream(plan, opt);
  StreamOutput out;
  stream->feed("Short text", &out);
  CHECK(out.chunks.empty());
  stream->feed(" that grows past the lookahead", &out);
  CHECK(out.text() == std::string(kWrapOpen) + "Short text that grows past the lookahead");
  out.clear();
  stream->feed(" and keeps streaming", &out);
  CHECK(out.text() == " and keeps streaming");
  out.clear();
  stream->finish(&out);
  CHECK(out.text() == kWrapClose);
}

TEST_CASE("XML mode: reasoning first passes through at once", "[tools][xml]") {
  ToolPlan plan = xml_plan();
  auto stream = make_tool_stream(plan, {});
  StreamOutput out;
  stream->feed("<thinking>Long reasoning", &out);
  CHECK(out.text() == "<thinking>Long reasoning");
  out.clear();
  stream->feed(" goes on.</thinking>\nAnswer", &out);
  CHECK(out.text() == " goes on.</thinking>");
}

TEST_CASE("XML mode: a tool tag after the wrap closes the result first", "[tools][xml]") {
  ToolPlan plan = xml_plan();
  StreamOptions opt;
  opt.xml_lookahead_bytes = 8;
  std::string text =
      "Some longer text.\n<execute_command>\n<command>ls</command>\n</execute_command>";
  Outcome whole = run_whole(plan, text, opt);
  CHECK(whole.content == std::string(kWrapOpen) + "Some longer text.\n" + std::string(kWrapClose));
  CHECK(whole.stop);
  CHECK(whole.warnings.size() == 1);
  auto blocks = roo_parse(whole.content, plan.catalog.tools, plan.catalog.params);
  CHECK(count_tools(blocks) == 1);
  for (size_t at = 0; at <= text.size(); ++at) REQUIRE(run_split(plan, text, at, opt) == whole);
}

TEST_CASE("XML mode converts drift markup to Roo XML", "[tools][xml]") {
  ToolPlan plan = xml_plan();
  Outcome o =
      run_whole(plan,
                "Writing.\n<tool_call>\n{\"name\": \"write_to_file\", \"arguments\": "
                "{\"path\": \"a.txt\", \"content\": \"x\\n\", \"line_count\": 1}}\n</tool_call>");
  CHECK(o.content ==
        "Writing.\n<write_to_file>\n<path>a.txt</path>\n<content>\nx\n\n</content>\n"
        "<line_count>1</line_count>\n</write_to_file>");
  CHECK(o.stop);
  auto blocks = roo_parse(o.content, plan.catalog.tools, plan.catalog.params);
  REQUIRE(count_tools(blocks) == 1);
  CHECK(blocks[1].params.at("content") == "x\n");
}

TEST_CASE("many unclosed drift tags stay linear", "[tools][xml]") {
  // Every opener would otherwise search to the end of the answer again.
  std::string text;
  while (text.size() < 256 * 1024) text.append("<tool_call>{\"a\": ");
  for (const ToolPlan& plan : {xml_plan(), native_plan()}) {
    Outcome o = run_pieces(plan, {text.substr(0, 100000), text.substr(100000)});
    CHECK(o.error.empty());
    CHECK(o.calls.empty());
    CHECK(o.warnings.size() == 1);               // one failed attempt, not one per opener
    CHECK(o.content.size() + 1 >= text.size());  // native drops the trailing blank
  }
}
