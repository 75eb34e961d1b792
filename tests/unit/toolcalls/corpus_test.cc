// The corpus (tests/testdata/tools/corpus): realistic model outputs, each
// with hand-written expectations in its header. Every output goes through
// the native, Roo-native and Roo-XML streams, whole (non-streaming) and
// split at every byte and at random points (streaming): the split results
// must equal the whole one exactly, and the whole one must meet the
// expectations. XML-mode outputs are judged by a re-implementation of Roo
// Code's own parser (roo_sim.h).
#include <filesystem>
#include <map>
#include <random>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "roo_sim.h"
#include "toolcalls_test_util.h"
#include "worker/toolcalls/xml_stream.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

namespace {

struct Case {
  std::string name;
  std::map<std::string, std::string> expect;  // "native.calls" → value
  std::string output;
};

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
  }
  return out;
}

Case load_case(const std::filesystem::path& path) {
  Case c;
  c.name = path.stem().string();
  std::string text = read_file(path.string());
  size_t pos = 0;
  while (true) {
    size_t nl = text.find('\n', pos);
    REQUIRE(nl != std::string::npos);
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (line == "----") break;
    REQUIRE(line.size() > 1);
    REQUIRE(line[0] == '#');
    size_t colon = line.find(": ");
    REQUIRE(colon != std::string_view::npos);
    c.expect[std::string(line.substr(1, colon - 1))] = unescape(line.substr(colon + 2));
  }
  c.output = text.substr(pos);
  return c;
}

std::vector<Case> load_corpus() {
  std::vector<Case> cases;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(QP_TESTDATA_DIR) + "/tools/corpus")) {
    if (entry.path().extension() == ".txt") cases.push_back(load_case(entry.path()));
  }
  std::sort(cases.begin(), cases.end(),
            [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

const std::vector<Case>& corpus() {
  static const std::vector<Case> cases = load_corpus();
  return cases;
}

std::string names_of(const Outcome& o) {
  if (o.calls.empty()) return "-";
  std::string s;
  for (const auto& c : o.calls) {
    if (!s.empty()) s.push_back(',');
    s.append(c.name);
  }
  return s;
}

bool valid_json_object(const std::string& s) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return !p.parse(s).get(e) && e.is_object();
}

// Every split point and 30 random multi-splits give exactly `whole`.
void check_splits(const ToolPlan& plan, const Case& c, const Outcome& whole) {
  const std::string& s = c.output;
  for (size_t at = 0; at <= s.size(); ++at) {
    Outcome o = run_split(plan, s, at);
    if (!(o == whole)) {
      INFO("case " << c.name << " split at " << at << "\nwhole:\n"
                   << describe(whole) << "\nsplit:\n"
                   << describe(o));
      REQUIRE(o == whole);
    }
  }
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>()(c.name)));
  for (int round = 0; round < 30; ++round) {
    std::vector<std::string_view> pieces;
    size_t max_piece = 1 + rng() % (round < 10 ? 4 : 64);
    for (size_t i = 0; i < s.size();) {
      size_t n = std::min(s.size() - i, 1 + rng() % max_piece);
      pieces.emplace_back(s.data() + i, n);
      i += n;
    }
    Outcome o = run_pieces(plan, pieces);
    if (!(o == whole)) {
      INFO("case " << c.name << " random split round " << round << "\nwhole:\n"
                   << describe(whole) << "\nsplit:\n"
                   << describe(o));
      REQUIRE(o == whole);
    }
  }
}

void check_native_expect(const Case& c, const std::string& mode, const Outcome& o) {
  INFO("case " << c.name << " (" << mode << ")\n" << describe(o));
  CHECK(o.error.empty());
  for (const auto& call : o.calls) CHECK(valid_json_object(call.arguments));
  CHECK(o.finish_reason == (o.calls.empty() ? "" : "tool_calls"));
  for (const auto& [key, want] : c.expect) {
    if (key.rfind(mode + ".", 0) != 0) continue;
    std::string k = key.substr(mode.size() + 1);
    if (k == "calls") {
      CHECK(names_of(o) == want);
    } else if (k.rfind("args", 0) == 0) {
      size_t i = std::stoul(k.substr(4));
      REQUIRE(o.calls.size() > i);
      CHECK(o.calls[i].arguments == want);
    } else if (k == "content") {
      CHECK(o.content == want);
    } else if (k == "content_has") {
      CHECK(o.content.find(want) != std::string::npos);
    } else if (k == "warn") {
      CHECK(o.warnings.empty() == (want == "no"));
    } else {
      FAIL("unknown expectation " << key);
    }
  }
}

void check_xml_expect(const Case& c, const ToolPlan& plan, const Outcome& o) {
  INFO("case " << c.name << " (xml)\n" << describe(o));
  CHECK(o.error.empty());
  CHECK(o.calls.empty());
  auto blocks = roo_parse(o.content, plan.catalog.tools, plan.catalog.params);
  bool blank = o.content.find_first_not_of(" \t\r\n") == std::string::npos;
  // The guarantee: exactly one tool use, closed, unless the reply is empty.
  CHECK(count_tools(blocks) == (blank ? 0 : 1));
  const RooBlock* tool = nullptr;
  std::string text;
  for (const auto& b : blocks) {
    if (b.tool) {
      tool = &b;
      break;
    }
    if (!text.empty()) text.push_back('\n');
    text.append(b.text);
  }
  if (tool != nullptr) CHECK_FALSE(tool->partial);
  for (const auto& [key, want] : c.expect) {
    if (key.rfind("xml.", 0) != 0) continue;
    std::string k = key.substr(4);
    if (k == "tool") {
      CHECK((tool == nullptr ? std::string("-") : tool->name) == want);
    } else if (k.rfind("param.", 0) == 0) {
      REQUIRE(tool != nullptr);
      auto it = tool->params.find(k.substr(6));
      REQUIRE(it != tool->params.end());
      CHECK(it->second == want);
    } else if (k == "text") {
      CHECK(text == want);
    } else if (k == "wrapped") {  // we added the attempt_completion (the model did not write it)
      bool wrapped = o.content.find(kWrapOpen) != std::string::npos &&
                     c.output.find(kWrapOpen) == std::string::npos;
      CHECK(wrapped == (want == "yes"));
    } else if (k == "output") {
      CHECK(o.content == want);
    } else if (k == "stop") {
      CHECK(o.stop == (want == "yes"));
    } else if (k == "warn") {
      CHECK(o.warnings.empty() == (want == "no"));
    } else {
      FAIL("unknown expectation " << key);
    }
  }
}

}  // namespace

TEST_CASE("the corpus holds at least 60 outputs", "[tools][corpus]") {
  CHECK(corpus().size() >= 60);
}

TEST_CASE("corpus: native mode meets the expectations, for every split", "[tools][corpus]") {
  ToolPlan plan = native_plan();
  for (const auto& c : corpus()) {
    Outcome whole = run_whole(plan, c.output);
    check_native_expect(c, "native", whole);
    check_splits(plan, c, whole);
  }
}

TEST_CASE("corpus: Roo Code native mode always ends with a tool call", "[tools][corpus]") {
  ToolPlan plan = roo_plan();
  ToolPlan plain = native_plan();
  REQUIRE(plan.roo);
  for (const auto& c : corpus()) {
    Outcome whole = run_whole(plan, c.output);
    Outcome base = run_whole(plain, c.output);
    check_native_expect(c, "roo", whole);
    INFO("case " << c.name << "\n" << describe(whole));
    // Same text; a reply without calls gains one attempt_completion call.
    CHECK(whole.content == base.content);
    if (base.calls.empty() && !base.content.empty()) {
      REQUIRE(whole.calls.size() == 1);
      CHECK(whole.calls[0].name == "attempt_completion");
      CHECK(whole.calls[0].arguments == R"({"result":"The answer is in the message above."})");
    } else {
      CHECK(whole.calls == base.calls);
    }
    check_splits(plan, c, whole);
  }
}

TEST_CASE("corpus: XML mode gives exactly one Roo tool use, for every split", "[tools][corpus]") {
  ToolPlan plan = xml_plan();
  REQUIRE(plan.mode == ToolMode::kXml);
  for (const auto& c : corpus()) {
    Outcome whole = run_whole(plan, c.output);
    check_xml_expect(c, plan, whole);
    check_splits(plan, c, whole);
  }
}
