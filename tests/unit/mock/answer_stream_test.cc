#include "tools/mock-qwen/answer_stream.h"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/mock/sse_test_util.h"
#include "tools/mock-qwen/tokenizer.h"

using namespace qp::mock;  // NOLINT(google-build-using-namespace): test brevity

namespace {

StreamSpec make_spec(std::string answer) {
  StreamSpec spec;
  spec.chat_id = "chat-1";
  spec.user_message_id = "user-1";
  spec.response_id = "resp-1";
  spec.input_tokens = 7;
  spec.answer = std::move(answer);
  tokenize(spec.answer, &spec.answer_ends);
  return spec;
}

// Drains the stream; returns the bytes and the kinds in order.
std::string drain(AnswerStream& s, std::vector<EventKind>* kinds = nullptr) {
  std::string out;
  for (int guard = 0; guard < 100000; ++guard) {
    EventKind k = s.next(&out, 1775934589);
    if (kinds != nullptr) kinds->push_back(k);
    if (k == EventKind::kEnd || k == EventKind::kDrop || k == EventKind::kError) break;
  }
  return out;
}

}  // namespace

TEST_CASE("a whole stream reassembles to the answer with the final usage", "[answer_stream]") {
  const std::string answer =
      "Greetings, Cosmic Traveler! \xF0\x9F\x8C\x8C\n\nYou asked about **law**.";
  AnswerStream s(make_spec(answer));
  std::vector<EventKind> kinds;
  std::string bytes = drain(s, &kinds);
  auto r = test::reassemble(bytes);
  CHECK_FALSE(r.parse_error);
  CHECK(r.created_chat_id == "chat-1");
  CHECK(r.created_parent_id == "user-1");
  CHECK(r.created_response_id == "resp-1");
  CHECK(r.answer == answer);
  size_t ntok = count_tokens(answer);
  // One event per token, then the two empty trailer events of the capture;
  // the first trailer counts one more output token.
  CHECK(r.typing_events == static_cast<int>(ntok) + 2);
  CHECK(r.last_input_tokens == 7);
  CHECK(r.last_output_tokens == static_cast<int64_t>(ntok) + 1);
  CHECK(r.last_total_tokens == 7 + static_cast<int64_t>(ntok) + 1);
  CHECK(r.finished_events == 1);
  CHECK(r.done_lines == 0);
  CHECK(kinds.front() == EventKind::kCreated);
  CHECK(kinds[kinds.size() - 2] == EventKind::kFinished);
  CHECK(kinds.back() == EventKind::kEnd);
  CHECK(s.ended());
  CHECK(s.answer_sent() == answer);
  CHECK(s.usage().output_tokens == r.last_output_tokens);
  // The finished event has no usage (capture).
  auto payloads = test::split_events(bytes);
  CHECK(payloads.back().find("usage") == std::string::npos);
  CHECK(payloads.back().find("\"status\": \"finished\"") != std::string::npos);
}

TEST_CASE("each content event carries exactly one token", "[answer_stream]") {
  AnswerStream s(make_spec("You said: hi there"));
  auto payloads = test::split_events(drain(s));
  REQUIRE(payloads.size() == 1 + 5 + 2 + 1);
  CHECK(payloads[1].find("\"content\": \"You\"") != std::string::npos);
  CHECK(payloads[2].find("\"content\": \" said\"") != std::string::npos);
  CHECK(payloads[3].find("\"content\": \":\"") != std::string::npos);
  CHECK(payloads[4].find("\"content\": \" hi\"") != std::string::npos);
  CHECK(payloads[5].find("\"content\": \" there\"") != std::string::npos);
  CHECK(payloads[5].find("\"output_tokens\": 5,") != std::string::npos);
}

TEST_CASE("emit_done appends [DONE] after finished", "[answer_stream]") {
  auto spec = make_spec("ok");
  spec.emit_done = true;
  AnswerStream s(std::move(spec));
  auto r = test::reassemble(drain(s));
  CHECK(r.finished_events == 1);
  CHECK(r.done_lines == 1);
  CHECK(r.answer == "ok");
}

TEST_CASE("thinking detail streams think deltas before the answer", "[answer_stream]") {
  auto spec = make_spec("answer text");
  spec.thinking = ThinkingFormat::kDetail;
  spec.thinking_text = "Thinking about: it";
  tokenize(spec.thinking_text, &spec.thinking_ends);
  AnswerStream s(std::move(spec));
  std::vector<EventKind> kinds;
  auto r = test::reassemble(drain(s, &kinds));
  CHECK(r.thinking == "Thinking about: it");
  CHECK(r.answer == "answer text");
  // think tokens count as output tokens too.
  CHECK(r.last_output_tokens == 4 + 2 + 1);
  // All think events come before the first answer event.
  auto first_answer = std::find(kinds.begin(), kinds.end(), EventKind::kAnswer);
  CHECK(std::find(first_answer, kinds.end(), EventKind::kThink) == kinds.end());
}

TEST_CASE("thinking summary sends cumulative thought arrays", "[answer_stream]") {
  auto spec = make_spec("done");
  spec.thinking = ThinkingFormat::kSummary;
  spec.thinking_text = "The user said hello.\nI should offer help.\n";
  spec.summary_title = "Answer the greeting";
  AnswerStream s(std::move(spec));
  std::string bytes = drain(s);
  auto payloads = test::split_events(bytes);
  int summaries = 0;
  for (const auto& p : payloads) summaries += p.find("thinking_summary") != std::string::npos;
  CHECK(summaries == 2);
  auto r = test::reassemble(bytes);
  CHECK(r.summary_thought ==
        std::vector<std::string>{"The user said hello.", "I should offer help."});
  CHECK(r.answer == "done");
}

TEST_CASE("search sends the web_search call and result first", "[answer_stream]") {
  auto spec = make_spec("found it");
  spec.search = true;
  spec.search_query = "q";
  AnswerStream s(std::move(spec));
  std::vector<EventKind> kinds;
  auto r = test::reassemble(drain(s, &kinds));
  CHECK(r.search_events == 2);
  CHECK(kinds[1] == EventKind::kSearchCall);
  CHECK(kinds[2] == EventKind::kSearchResult);
  CHECK(r.answer == "found it");
  CHECK(r.finished_events == 1);
}

TEST_CASE("stop jumps to finished", "[answer_stream]") {
  AnswerStream s(make_spec("one two three four five"));
  std::string out;
  REQUIRE(s.next(&out, 0) == EventKind::kCreated);
  REQUIRE(s.next(&out, 0) == EventKind::kAnswer);
  REQUIRE(s.next(&out, 0) == EventKind::kAnswer);
  s.stop();
  CHECK(s.peek() == EventKind::kFinished);
  CHECK(s.next(&out, 0) == EventKind::kFinished);
  CHECK(s.next(&out, 0) == EventKind::kEnd);
  CHECK(s.stopped());
  CHECK(s.answer_sent() == "one two");
  auto r = test::reassemble(out);
  CHECK(r.answer == "one two");
  CHECK(r.finished_events == 1);
}

TEST_CASE("stop before anything was sent still opens with response.created", "[answer_stream]") {
  AnswerStream s(make_spec("words"));
  s.stop();
  std::vector<EventKind> kinds;
  drain(s, &kinds);
  CHECK(kinds ==
        std::vector<EventKind>{EventKind::kCreated, EventKind::kFinished, EventKind::kEnd});
}

TEST_CASE("a mid-stream error replaces the rest of the stream", "[answer_stream]") {
  auto spec = make_spec("a b c d e");
  spec.error_after = 2;
  AnswerStream s(std::move(spec));
  std::vector<EventKind> kinds;
  std::string bytes = drain(s, &kinds);
  CHECK(kinds.back() == EventKind::kError);
  auto r = test::reassemble(bytes);
  CHECK(r.answer == "a b");
  CHECK(r.error_events == 1);
  CHECK(r.finished_events == 0);
  const std::string expected =
      "data: {\"error\":{\"code\":\"internal_error\",\"message\":\"Internal error\"}}\n\n";
  REQUIRE(bytes.size() > expected.size());
  CHECK(bytes.substr(bytes.size() - expected.size()) == expected);
}

TEST_CASE("an error after more events than the answer has fires before finished",
          "[answer_stream]") {
  auto spec = make_spec("short");
  spec.error_after = 100;
  AnswerStream s(std::move(spec));
  auto r = test::reassemble(drain(s));
  CHECK(r.answer == "short");
  CHECK(r.error_events == 1);
  CHECK(r.finished_events == 0);
}

TEST_CASE("a drop ends the stream without finished", "[answer_stream]") {
  auto spec = make_spec("a b c");
  spec.drop_after = 1;
  AnswerStream s(std::move(spec));
  std::vector<EventKind> kinds;
  auto r = test::reassemble(drain(s, &kinds));
  CHECK(kinds.back() == EventKind::kDrop);
  CHECK(r.answer == "a");
  CHECK(r.finished_events == 0);
  CHECK(s.ended());
}

TEST_CASE("an empty answer still has created, trailer and finished", "[answer_stream]") {
  AnswerStream s(make_spec(""));
  auto r = test::reassemble(drain(s));
  CHECK(r.answer.empty());
  CHECK(r.typing_events == 2);
  CHECK(r.finished_events == 1);
}

TEST_CASE("variant 2026 events carry response_id and timestamp", "[answer_stream]") {
  auto spec = make_spec("hola");
  spec.variant_2026 = true;
  AnswerStream s(std::move(spec));
  std::string bytes = drain(s);
  auto payloads = test::split_events(bytes);
  REQUIRE(payloads.size() >= 3);
  CHECK(payloads[1].find("\"response_id\":\"resp-1\"") != std::string::npos);
  CHECK(payloads[1].find("\"timestamp\":1775934589") != std::string::npos);
  std::string ka;
  s.append_keep_alive(&ka, 5);
  CHECK(ka.find("\"action\":\"keep_alive\"") != std::string::npos);
  CHECK(test::reassemble(bytes).answer == "hola");
}

TEST_CASE("search formats: tool_result docs (newer) or web_search_info (older), two sources",
          "[answer_stream]") {
  for (auto format : {SearchFormat::kFunctionCall, SearchFormat::kWebSearchInfo}) {
    auto spec = make_spec("found it");
    spec.search = true;
    spec.search_query = "q";
    spec.search_format = format;
    AnswerStream s(std::move(spec));
    std::vector<EventKind> kinds;
    std::string bytes = drain(s, &kinds);
    auto r = test::reassemble(bytes);
    CHECK(r.search_events == 2);
    CHECK(kinds[2] == EventKind::kSearchResult);
    CHECK(r.answer == "found it");
    bool info = format == SearchFormat::kWebSearchInfo;
    CHECK((bytes.find("\"web_search_info\": [{\"url\": \"https://example.com/mock-search/1\"") !=
           std::string::npos) == info);
    CHECK((bytes.find(
               "\"tool_result\": {\"docs\": [{\"url\": \"https://example.com/mock-search/1\"") !=
           std::string::npos) == !info);
    CHECK(bytes.find("\"url\": \"https://example.org/mock-search/2?q=1&r=2\", \"title\": \"Second "
                     "mock result for q\"") != std::string::npos);
  }
}

TEST_CASE("deep research: plan, rounds of goals and sources, then the report with references",
          "[answer_stream][research]") {
  auto spec = make_spec("The report.");
  spec.research = true;
  spec.research_topic = "tea";
  spec.research_rounds = 2;
  AnswerStream s(std::move(spec));
  std::vector<EventKind> kinds;
  std::string bytes = drain(s, &kinds);
  auto r = test::reassemble(bytes);
  CHECK_FALSE(r.parse_error);
  CHECK(r.research_plan ==
        "Research plan: 1. Background of tea. 2. Recent developments. 3. Write the report.");
  CHECK(r.research_goals == "Round 1: find sources on tea.Round 2: find sources on tea.");
  std::vector<std::string> sites = {
      "https://example.com/mock-research/1/1", "https://example.com/mock-research/1/2",
      "https://example.com/mock-research/2/1", "https://example.com/mock-research/2/2"};
  CHECK(r.research_sites == sites);
  CHECK(r.references == sites);  // on the report's first delta
  CHECK(r.answer == "The report.");
  CHECK(r.finished_events == 1);  // the answer's (the plan's is a research status)
  CHECK(std::count(r.research_statuses.begin(), r.research_statuses.end(), "finished") == 1);
  // Statuses: the plan's tokens, its end, then per round goals, sources, end.
  REQUIRE(r.research_statuses.size() > 4);
  CHECK(r.research_statuses.front() == "typing");
  CHECK(std::count(r.research_statuses.begin(), r.research_statuses.end(), "streamingWebResult") ==
        2);
  CHECK(std::count(r.research_statuses.begin(), r.research_statuses.end(), "WebResultFinished") ==
        2);
  // The plan and goal tokens count in usage, then the report's and the trailer's.
  int64_t research_tokens = 0;
  for (auto k : kinds) research_tokens += k == EventKind::kResearch;
  CHECK(std::count(kinds.begin(), kinds.end(), EventKind::kResearchSites) == 2);
  // kResearch covers token steps plus 1 plan end and 2 round ends.
  CHECK(r.last_output_tokens ==
        research_tokens - 3 + static_cast<int64_t>(count_tokens("The report.")) + 1);
  CHECK(kinds[1] == EventKind::kResearch);
}

TEST_CASE("deep research: stop during the research jumps to finished",
          "[answer_stream][research]") {
  auto spec = make_spec("The report.");
  spec.research = true;
  spec.research_topic = "tea";
  AnswerStream s(std::move(spec));
  std::string out;
  REQUIRE(s.next(&out, 0) == EventKind::kCreated);
  REQUIRE(s.next(&out, 0) == EventKind::kResearch);
  s.stop();
  CHECK(s.next(&out, 0) == EventKind::kFinished);
  CHECK(s.next(&out, 0) == EventKind::kEnd);
  CHECK(test::reassemble(out).answer.empty());
}

TEST_CASE("deep research: rounds are clamped to 1..8", "[answer_stream][research]") {
  auto count_sites = [](int rounds) {
    auto steps = research_steps("x", rounds);
    return std::count_if(steps.begin(), steps.end(), [](const ResearchStep& st) {
      return st.kind == ResearchStep::Kind::kSites;
    });
  };
  CHECK(count_sites(0) == 1);
  CHECK(count_sites(3) == 3);
  CHECK(count_sites(100) == 8);
}
