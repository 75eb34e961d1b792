// Property test: random model outputs built from tool-markup fragments, fed
// in random pieces to every kind of stream. Never a crash (the suite runs
// under ASan/UBSan), never more than the stream's memory bound, the same
// result for any split, only well-formed calls in native mode, and in XML
// mode exactly one tool use that Roo Code's parser closes, for every
// non-blank output.
#include <cstdlib>
#include <random>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "roo_sim.h"
#include "toolcalls_test_util.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

namespace {

const std::vector<std::string>& fragments() {
  static const std::vector<std::string> f = {
      "Hello ",
      "world",
      "\n",
      "\n\n",
      " ",
      "<",
      ">",
      "</",
      "/>",
      "=",
      "\"",
      "\\",
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      "<tool_call>",
      "</tool_call>",
      "<tool_call>\n",
      "<function=fn_read_file>",
      "<function=read_file>",
      "<function=nope>",
      "<function=",
      "</function>",
      "<parameter=path>",
      "<parameter=content>",
      "<parameter=recursive>",
      "</parameter>",
      "<parameter=",
      "{\"name\": \"fn_read_file\", \"arguments\": {\"path\": \"a\"}}",
      "{\"name\": \"list_files\", \"arguments\": {\"path\": \".\", \"recursive\": \"yes\"}}",
      "{\"name\": \"web_search\"}",
      "\"arguments\": ",
      "<read_file>",
      "</read_file>",
      "<path>",
      "</path>",
      "<content>",
      "</content>",
      "<write_to_file>",
      "</write_to_file>",
      "<attempt_completion>",
      "</attempt_completion>",
      "<result>",
      "</result>",
      "<thinking>",
      "</thinking>",
      "<think>",
      "</think>",
      "```",
      "```xml\n",
      "`",
      "~~~",
      "你好",
      "🚀",
      "\xff",
      "\xe4\xbd",
      "<execute_command>",
      "<command>",
      "ls -la",
      "</command>",
      "</execute_command>",
      "<list_files>",
      "<recursive>",
      "true",
      "</recursive>",
      "\r\n",
      "<switch_mode>",
      "<mode_slug>",
      "</mode_slug>",
      "</switch_mode>",
      "<div>",
      "</div>",
      "a < b",
      "x<y",
      "<tool_call>\n<function=fn_list_files>\n<parameter=path>\n.\n</parameter>\n"
      "<parameter=recursive>\nfalse\n</parameter>\n</function>\n</tool_call>",
      "<read_file>\n<path>src/a.cc</path>\n</read_file>",
      "<!--",
      "-->",
      "&lt;",
      "\t"};
  return f;
}

std::string random_output(std::mt19937& rng) {
  std::string s;
  size_t n = rng() % 40;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 5 == 0) {
      size_t len = 1 + rng() % 12;
      for (size_t k = 0; k < len; ++k) s.push_back(static_cast<char>(32 + rng() % 95));
    } else {
      s.append(fragments()[rng() % fragments().size()]);
    }
  }
  return s;
}

std::vector<std::string_view> random_pieces(std::string_view s, std::mt19937& rng) {
  std::vector<std::string_view> pieces;
  size_t max_piece = 1 + rng() % 16;
  for (size_t i = 0; i < s.size();) {
    size_t n = std::min(s.size() - i, 1 + rng() % max_piece);
    pieces.push_back(s.substr(i, n));
    i += n;
  }
  return pieces;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

struct Variant {
  const char* name;
  ToolPlan plan;
  StreamOptions options;
};

}  // namespace

TEST_CASE("fuzz: no crash, bounded memory, split-invariant, well-formed", "[tools][fuzz]") {
  std::vector<Variant> variants;
  variants.push_back({"native", native_plan(), {}});
  variants.push_back({"native-single", native_plan("", false), {}});
  variants.push_back({"required", native_plan("\"required\""), {}});
  StreamOptions retry;
  retry.attempt = 1;
  variants.push_back({"required-retry", native_plan("\"required\""), retry});
  variants.push_back({"roo", roo_plan(), {}});
  StreamOptions small;
  small.max_call_bytes = 48;
  small.max_held_text_bytes = 40;
  small.xml_lookahead_bytes = 24;
  variants.push_back({"native-small", native_plan(), small});
  variants.push_back({"xml", xml_plan(), {}});
  variants.push_back({"xml-small", xml_plan(), small});

  // QP_FUZZ_ITERATIONS / QP_FUZZ_SEED run it longer or differently by hand.
  const char* env_iter = std::getenv("QP_FUZZ_ITERATIONS");
  const char* env_seed = std::getenv("QP_FUZZ_SEED");
  int iterations = env_iter != nullptr ? std::atoi(env_iter) : 2500;
  std::mt19937 rng(env_seed != nullptr ? static_cast<uint32_t>(std::atoll(env_seed)) : 20240611u);
  simdjson::dom::parser json;
  for (int iter = 0; iter < iterations; ++iter) {
    std::string text = random_output(rng);
    for (const auto& v : variants) {
      Outcome whole = run_whole(v.plan, text, v.options);
      Outcome split = run_pieces(v.plan, random_pieces(text, rng), v.options);
      INFO("variant " << v.name << " iteration " << iter << "\ninput: " << text << "\nwhole:\n"
                      << describe(whole) << "\nsplit:\n"
                      << describe(split));
      REQUIRE(whole.error.empty());
      REQUIRE(split == whole);
      if (v.plan.mode == ToolMode::kXml) {
        auto blocks = roo_parse(whole.content, v.plan.catalog.tools, v.plan.catalog.params);
        REQUIRE(count_tools(blocks) == (blank(whole.content) ? 0 : 1));
        for (const auto& b : blocks) REQUIRE_FALSE(b.partial);
        continue;
      }
      for (const auto& c : whole.calls) {
        REQUIRE(v.plan.tools.find(c.name) != nullptr);
        simdjson::dom::element e;
        REQUIRE_FALSE(json.parse(c.arguments).get(e));
        REQUIRE(e.is_object());
      }
      REQUIRE(whole.finish_reason == (whole.calls.empty() ? "" : "tool_calls"));
      if (v.plan.single_call()) REQUIRE(whole.calls.size() <= 1);
      if (v.plan.roo && !whole.content.empty()) REQUIRE_FALSE(whole.calls.empty());
      if (v.plan.must_call() && v.options.attempt == 1 && !whole.content.empty())
        REQUIRE_FALSE(whole.calls.empty());
      if (whole.retry) REQUIRE((whole.content.empty() && whole.calls.empty()));
    }
  }
}
