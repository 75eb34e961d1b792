// The event interpreter on deep research streams (docs/upstream.md "Deep
// research") and the reasoning-token mapping of usage.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "worker/qwen_events.h"
#include "worker/sse_parser.h"

using qp::worker::EventOutcome;
using qp::worker::QwenEventInterpreter;
using qp::worker::SseParser;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Result {
  std::string content, reasoning;
  EventOutcome outcome = EventOutcome::kContinue;
  qp::worker::StreamUsage usage;
  std::vector<qp::protocol::SearchSource> sources;
};

// The stream fed in pieces of `piece` bytes, as ChatCall does.
Result run(std::string_view sse, size_t piece) {
  SseParser parser;
  QwenEventInterpreter ev;
  Result r;
  auto drain = [&] {
    std::string_view data;
    while (r.outcome == EventOutcome::kContinue && parser.next(&data))
      r.outcome = ev.interpret(data, &r.content, &r.reasoning);
  };
  for (size_t i = 0; i < sse.size(); i += piece) {
    parser.feed(sse.substr(i, piece));
    drain();
  }
  parser.finish();
  drain();
  r.usage = ev.usage();
  r.sources = ev.sources();
  return r;
}

struct Direct {
  QwenEventInterpreter ev;
  std::string content, reasoning;
  EventOutcome feed(std::string_view payload) {
    return ev.interpret(payload, &content, &reasoning);
  }
};

}  // namespace

TEST_CASE("research: phases are reasoning, the report is content, sites are sources",
          "[events][research]") {
  std::string sse = read_file(QP_TESTDATA_DIR "/upstream/deep-research.sse");
  for (size_t piece : {size_t{1}, size_t{3}, size_t{64}, sse.size()}) {
    CAPTURE(piece);
    Result r = run(sse, piece);
    CHECK(r.outcome == EventOutcome::kFinished);
    // Planning text, then each round's research goal; a blank line between
    // steps; KeepAlive and response.info add nothing.
    CHECK(r.reasoning ==
          "Plan: 1. Background. 2. Findings.\n\nGoal 1: find sources.\n\nGoal 2: find sources.");
    CHECK(r.content == "# Report\n\nDone.");
    // webSites of both rounds, then the report's references; deduplicated,
    // web links only.
    REQUIRE(r.sources.size() == 5);
    CHECK(r.sources[0].url == "https://research.example/1/a");
    CHECK(r.sources[0].title == "Site 1A");
    CHECK(r.sources[1].url == "https://research.example/1/b");
    CHECK(r.sources[2].url == "https://research.example/2/a");
    CHECK(r.sources[3].url == "https://research.example/2/b");
    CHECK(r.sources[4].url == "https://research.example/3/c");
    CHECK(r.sources[4].title == "Only a reference");
    // 7 tokens of planning and goals, 2 of the report.
    CHECK(r.usage.output_tokens == 9);
    CHECK(r.usage.reasoning_tokens == 7);
    CHECK_FALSE(r.usage.reasoning_reported);
  }
}

TEST_CASE("research: the clarifying first turn is a plain answer", "[events][research]") {
  Direct d;
  CHECK(
      d.feed(
          R"({"choices":[{"delta":{"role":"assistant","content":"Which aspects?","phase":"answer","status":"typing"}}],"usage":{"input_tokens":5,"output_tokens":3}})") ==
      EventOutcome::kContinue);
  CHECK(d.feed(R"({"choices":[{"delta":{"content":"","status":"finished","phase":"answer"}}]})") ==
        EventOutcome::kFinished);
  CHECK(d.content == "Which aspects?");
  CHECK(d.reasoning.empty());
  CHECK(d.ev.usage().reasoning_tokens == 0);
  CHECK(d.ev.sources().empty());
}

TEST_CASE("research: a finished plan does not end the stream", "[events][research]") {
  Direct d;
  CHECK(
      d.feed(
          R"({"choices":[{"delta":{"content":"Plan.","phase":"ResearchPlanning","status":"typing"}}]})") ==
      EventOutcome::kContinue);
  CHECK(
      d.feed(
          R"({"choices":[{"delta":{"content":"","phase":"ResearchPlanning","status":"finished"}}]})") ==
      EventOutcome::kContinue);
  // A research phase without the break markers still gets its paragraph.
  d.feed(
      R"({"choices":[{"delta":{"content":"Searching.","phase":"WebResearch","status":"typing"}}]})");
  CHECK(d.reasoning == "Plan.\n\nSearching.");
  CHECK_FALSE(d.ev.finished());
}

TEST_CASE("usage: reasoning tokens derived from think-phase output", "[events][usage]") {
  Direct d;
  d.feed(
      R"({"choices":[{"delta":{"content":"Hmm ","phase":"think","status":"typing"}}],"usage":{"input_tokens":4,"output_tokens":1}})");
  d.feed(
      R"({"choices":[{"delta":{"content":"yes.","phase":"think","status":"typing"}}],"usage":{"input_tokens":4,"output_tokens":2}})");
  d.feed(
      R"({"choices":[{"delta":{"content":"Hi","phase":"answer","status":"typing"}}],"usage":{"input_tokens":4,"output_tokens":3}})");
  d.feed(
      R"({"choices":[{"delta":{"content":"!","phase":"answer","status":"typing"}}],"usage":{"input_tokens":4,"output_tokens":4}})");
  CHECK(d.ev.usage().output_tokens == 4);
  CHECK(d.ev.usage().reasoning_tokens == 2);
  CHECK(d.reasoning == "Hmm yes.");
}

TEST_CASE("usage: summary events without usage count the output so far", "[events][usage]") {
  Direct d;
  d.feed(
      R"({"choices":[{"delta":{"content":"","phase":"answer","status":"typing"}}],"usage":{"input_tokens":4,"output_tokens":5}})");
  d.feed(
      R"({"choices":[{"delta":{"content":"","phase":"thinking_summary","extra":{"summary_thought":{"content":["A."]}}}}]})");
  d.feed(
      R"({"choices":[{"delta":{"content":"Hi","phase":"answer","status":"typing"}}],"usage":{"input_tokens":4,"output_tokens":9}})");
  CHECK(d.ev.usage().reasoning_tokens == 5);
  CHECK(d.ev.usage().output_tokens == 9);
}

TEST_CASE("usage: a reported reasoning_tokens wins and sticks", "[events][usage]") {
  Direct d;
  d.feed(
      R"({"choices":[{"delta":{"content":"x","phase":"think"}}],"usage":{"input_tokens":4,"output_tokens":1,"output_tokens_details":{"text_tokens":0,"reasoning_tokens":1}}})");
  d.feed(
      R"({"choices":[{"delta":{"content":"y","phase":"think"}}],"usage":{"input_tokens":4,"output_tokens":30,"output_tokens_details":{"reasoning_tokens":25}}})");
  CHECK(d.ev.usage().reasoning_tokens == 25);
  CHECK(d.ev.usage().reasoning_reported);
  // Later usage without the field keeps the reported count (no derivation).
  d.feed(
      R"({"choices":[{"delta":{"content":"z","phase":"think"}}],"usage":{"input_tokens":4,"output_tokens":40}})");
  d.feed(
      R"({"choices":[{"delta":{"content":"A","phase":"answer"}}],"usage":{"input_tokens":4,"output_tokens":41,"completion_tokens_details":{"reasoning_tokens":"n/a"}}})");
  CHECK(d.ev.usage().reasoning_tokens == 25);
  CHECK(d.ev.usage().output_tokens == 41);
}

TEST_CASE("usage: no reasoning phase, no reasoning tokens", "[events][usage]") {
  std::string sse = read_file(QP_TESTDATA_DIR "/upstream/completion-stream.sse");
  Result r = run(sse, sse.size());
  CHECK(r.outcome == EventOutcome::kFinished);
  CHECK(r.usage.output_tokens == 838);
  CHECK(r.usage.reasoning_tokens == 0);
}

TEST_CASE("usage: reset forgets the reasoning count", "[events][usage]") {
  Direct d;
  d.feed(
      R"({"choices":[{"delta":{"content":"x","phase":"think"}}],"usage":{"input_tokens":1,"output_tokens":3}})");
  CHECK(d.ev.usage().reasoning_tokens == 3);
  d.ev.reset();
  CHECK(d.ev.usage().reasoning_tokens == 0);
  CHECK_FALSE(d.ev.usage().reasoning_reported);
}
