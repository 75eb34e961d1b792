// schema_map.h: what the model writes is reshaped to the schema the client
// declared, checked against Roo Code's real tool definitions of three
// releases (tests/testdata/tools/roo-native-v*.json).
#include "worker/toolcalls/schema_map.h"

#include <map>

#include <catch2/catch.hpp>

#include "toolcalls_test_util.h"
#include "worker/toolcalls/arguments.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

namespace {

const ToolSet& release(const std::string& r) {
  static std::map<std::string, ToolSet> sets;
  auto it = sets.find(r);
  if (it == sets.end())
    it = sets.emplace(r, parse_tool_set(testdata("roo-native-v" + r + ".json")).value()).first;
  return it->second;
}

RawCall params(std::vector<RawParam> p) {
  RawCall c;
  c.params = std::move(p);
  return c;
}

RawCall json(std::string j) {
  RawCall c;
  c.has_json = true;
  c.json = std::move(j);
  return c;
}

std::string args(const std::string& r, const std::string& tool, const RawCall& call) {
  const Tool* t = release(r).find(tool);
  REQUIRE(t != nullptr);
  std::string out, err;
  INFO(err);
  REQUIRE(build_arguments(*t, call, &out, &err));
  return out;
}

const std::string kNested = "<file><path>src/a.ts</path><line_range>1-20</line_range></file>";
const std::string kTwo =
    "<file><path>a.ts</path></file>\n<file><path>b.ts</path><line_range>5-9</line_range>"
    "<line_range>30-40</line_range></file>";

}  // namespace

TEST_CASE("schema map: read_file files[] (v3.37, v3.41) from every form", "[tools][schema_map]") {
  for (std::string r : {"3.37", "3.41"}) {
    INFO("release " << r);
    const std::string one = R"({"files":[{"path":"src/a.ts","line_ranges":null}]})";
    const std::string ranged = R"({"files":[{"path":"src/a.ts","line_ranges":[[1,20]]}]})";
    // Roo XML <args>, flat <path>, <function=…> parameters, JSON in both shapes.
    CHECK(args(r, "read_file", params({{"args", kNested}})) == ranged);
    CHECK(args(r, "read_file", params({{"path", "src/a.ts"}})) == one);
    CHECK(args(r, "read_file", params({{"path", "src/a.ts"}, {"line_range", "1-20"}})) == ranged);
    CHECK(args(r, "read_file", params({{"file", kNested}})) == ranged);
    CHECK(args(r, "read_file", params({{"files", kNested}})) == ranged);
    CHECK(args(r, "read_file", json(R"({"path":"src/a.ts"})")) == one);
    CHECK(args(r, "read_file",
               json(R"({"args":{"file":{"path":"src/a.ts","line_range":"1-20"}}})")) == ranged);
    CHECK(args(r, "read_file", json(R"({"files":[{"path":"src/a.ts","line_ranges":["1-20"]}]})")) ==
          ranged);
    CHECK(args(r, "read_file", json(ranged)) == ranged);
    // Several files, several ranges.
    CHECK(
        args(r, "read_file", params({{"args", kTwo}})) ==
        R"({"files":[{"path":"a.ts","line_ranges":null},{"path":"b.ts","line_ranges":[[5,9],[30,40]]}]})");
    CHECK(args(r, "read_file", params({{"path", "a.ts"}, {"path", "b.ts"}})) ==
          R"({"files":[{"path":"a.ts","line_ranges":null},{"path":"b.ts","line_ranges":null}]})");
  }
}

TEST_CASE("schema map: read_file flat path (v3.52) from every form", "[tools][schema_map]") {
  const std::string r = "3.52";
  CHECK(args(r, "read_file", params({{"path", "src/a.ts"}})) == R"({"path":"src/a.ts"})");
  CHECK(args(r, "read_file", params({{"args", kNested}})) ==
        R"({"path":"src/a.ts","offset":1,"limit":20})");
  CHECK(args(r, "read_file", params({{"args", "<file><path>src/a.ts</path></file>"}})) ==
        R"({"path":"src/a.ts"})");
  CHECK(args(r, "read_file", json(R"({"files":[{"path":"src/a.ts","line_ranges":[[3,4]]}]})")) ==
        R"({"path":"src/a.ts","offset":3,"limit":2})");
  CHECK(args(r, "read_file", json(R"({"path":"src/a.ts","mode":"Indentation"})")) ==
        R"({"path":"src/a.ts","mode":"indentation"})");
  // A flat schema takes one file: the first.
  CHECK(args(r, "read_file", params({{"args", kTwo}})) == R"({"path":"a.ts"})");
  // Nested objects keep their shape.
  CHECK(args(r, "read_file",
             json(R"({"path":"a.ts","mode":"indentation","indentation":{"anchor_line":"42"}})")) ==
        R"({"path":"a.ts","mode":"indentation","indentation":{"anchor_line":42}})");
}

TEST_CASE("schema map: other Roo tools of every release", "[tools][schema_map]") {
  for (const auto& r : kRooReleases) {
    INFO("release " << r);
    CHECK(args(r, "execute_command", params({{"command", "ls -la"}}))
              .rfind(R"({"command":"ls -la","cwd":null)", 0) == 0);
    CHECK(
        args(r, "ask_followup_question",
             params({{"question", "Which?"},
                     {"follow_up",
                      "<suggest>SQLite</suggest><suggest mode=\"code\">Postgres</suggest>"}})) ==
        R"({"question":"Which?","follow_up":[{"text":"SQLite","mode":null},{"text":"Postgres","mode":"code"}]})");
    CHECK(args(r, "write_to_file", params({{"path", "a.txt"}, {"content", "<p>x</p>\n"}})) ==
          R"({"path":"a.txt","content":"<p>x</p>\n"})");
    CHECK(args(r, "attempt_completion", params({{"result", "Done."}})) == R"({"result":"Done."})");
    CHECK(args(r, "apply_diff", params({{"path", "a.cc"}, {"diff", "<<<<<<< SEARCH\nx"}})) ==
          R"({"path":"a.cc","diff":"<<<<<<< SEARCH\nx"})");
    CHECK(args(r, "list_files", params({{"path", "src"}, {"recursive", "true"}})) ==
          R"({"path":"src","recursive":true})");
    CHECK(args(r, "switch_mode", params({{"mode_slug", "code"}, {"reason", "r"}})) ==
          R"({"mode_slug":"code","reason":"r"})");
  }
}

TEST_CASE("schema map: every tool of every release takes flat and Roo-wrapped parameters",
          "[tools][schema_map]") {
  // For each tool, a string value for each string parameter, written flat
  // and inside Roo's <args>: both give the same arguments, and each given
  // value arrives under its own name.
  for (const auto& r : kRooReleases) {
    for (const auto& tool : release(r).tools()) {
      std::vector<RawParam> flat;
      std::string wrapped;
      for (const auto& p : tool.parameters.properties) {
        if (p.schema.types != 0 && (p.schema.types & kTypeString) == 0) continue;
        if (!p.schema.enum_json.empty()) continue;
        flat.push_back({p.name, "v-" + p.name});
        wrapped += "<" + p.name + ">v-" + p.name + "</" + p.name + ">";
      }
      if (flat.empty() || tool.parameters.property("args") != nullptr) continue;
      INFO("release " << r << " tool " << tool.name);
      std::string a, b, err;
      bool ok_a = build_arguments(tool, params(flat), &a, &err);
      bool ok_b = build_arguments(tool, params({{"args", wrapped}}), &b, &err);
      CHECK(ok_a == ok_b);  // browser_action lacks its required enum `action` both times
      if (!ok_a) continue;
      CHECK(a == b);
      for (const auto& p : flat)
        CHECK(a.find("\"" + p.name + "\":\"v-" + p.name + "\"") != std::string::npos);
    }
  }
}

TEST_CASE("schema map: a call that fits is left alone", "[tools][schema_map]") {
  const Tool* t = release("3.37").find("write_to_file");
  RawCall out;
  CHECK_FALSE(map_to_schema(t->parameters, params({{"path", "a"}, {"content", "<x>"}}), &out));
  CHECK_FALSE(map_to_schema(t->parameters, json(R"({"path":"a","content":"b"})"), &out));
  // Undeclared plain values stay for arguments.h (which drops them).
  CHECK_FALSE(map_to_schema(t->parameters, params({{"path", "a"}, {"extra", "b"}}), &out));
  CHECK(map_to_schema(t->parameters, params({{"args", "<path>a</path>"}}), &out));
  CHECK(out.json == R"({"path":"a"})");
}

TEST_CASE("schema map: line ranges", "[tools][schema_map]") {
  int64_t a = 0, b = 0;
  CHECK(parse_line_range("1-20", &a, &b));
  CHECK((a == 1 && b == 20));
  CHECK(parse_line_range(" [5, 9] ", &a, &b));
  CHECK((a == 5 && b == 9));
  CHECK_FALSE(parse_line_range("1-", &a, &b));
  CHECK_FALSE(parse_line_range("a-b", &a, &b));
  CHECK_FALSE(parse_line_range("1-2-3", &a, &b));
  Schema pair = parse_schema_json(
      R"({"type":"object","properties":{"r":{"type":"array","items":{"type":"array","items":{"type":"integer"}}}}})");
  Tool t{"t", "", pair, false};
  std::string out, err;
  REQUIRE(build_arguments(t, params({{"r", "10-12"}}), &out, &err));
  CHECK(out == R"({"r":[[10,12]]})");
  // Not a range: the old rule (a single value where a list is expected) fails cleanly.
  CHECK_FALSE(build_arguments(t, params({{"r", "ten"}}), &out, &err));
}

TEST_CASE("schema map: hostile input stays bounded", "[tools][schema_map]") {
  const Tool* t = release("3.37").find("read_file");
  std::string deep;
  for (int i = 0; i < 2000; ++i) deep += "<args>";
  deep += "<path>x</path>";
  for (int i = 0; i < 2000; ++i) deep += "</args>";
  std::string out, err;
  build_arguments(*t, params({{"args", deep}}), &out, &err);  // no crash, no hang
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "<file><path>f" + std::to_string(i) + "</path></file>";
  REQUIRE(build_arguments(*t, params({{"args", many}}), &out, &err));
  CHECK(out.rfind(R"({"files":[{"path":"f0","line_ranges":null},)", 0) == 0);
}

TEST_CASE("regression: Roo's <args><file> call to a files[] schema is not empty",
          "[tools][schema_map]") {
  // Before the mapping, v3.37's read_file got {} here and Roo refused the call.
  for (std::string r : {"3.37", "3.41"}) {
    ToolPlan plan = release_plan(r);
    Outcome o = run_whole(
        plan,
        "<read_file>\n<args>\n<file>\n<path>src/app.ts</path>\n</file>\n</args>\n</read_file>");
    INFO(describe(o));
    REQUIRE(o.calls.size() == 1);
    CHECK(o.calls[0].name == "read_file");
    CHECK(o.calls[0].arguments == R"({"files":[{"path":"src/app.ts","line_ranges":null}]})");
  }
  Outcome o = run_whole(release_plan("3.52"),
                        "<read_file>\n<args>\n<file>\n<path>src/app.ts</path>\n</file>\n</args>\n"
                        "</read_file>");
  REQUIRE(o.calls.size() == 1);
  CHECK(o.calls[0].arguments == R"({"path":"src/app.ts"})");
}
