// AnswerPipeline: the pure stages composed (SSE → events → max_tokens → stop
// sequences → tool calls → sink), fed with completion body bytes in any
// split, without any I/O. ChatCall's own tests (qwen_client_test,
// chat_limits_test) cover the same behaviour through FakeUpstream.
#include "worker/answer_pipeline.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "worker/toolcalls/tool_plan.h"

using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

namespace {

std::string event(const std::string& text, int output_tokens, const char* phase = "answer") {
  return std::string("data: {\"choices\":[{\"delta\":{\"content\":\"") + text + "\",\"phase\":\"" +
         phase + "\",\"status\":\"typing\"}}],\"usage\":{\"input_tokens\":3,\"output_tokens\":" +
         std::to_string(output_tokens) + ",\"total_tokens\":" + std::to_string(3 + output_tokens) +
         "}}\n\n";
}
const std::string kFinished =
    "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"phase\":\"answer\",\"status\":"
    "\"finished\"}}]}\n\n";
const std::string kInternalError =
    "data: {\"success\":false,\"request_id\":\"r\",\"data\":{\"code\":\"Bad_Request\","
    "\"details\":\"Internal error...\"}}\n\n";

struct Sink final : AnswerSink {
  std::vector<qp::protocol::JobChunk> chunks;
  std::vector<std::string> warnings;
  void on_answer_chunk(qp::protocol::JobChunk& c) override { chunks.push_back(c); }
  void on_tool_warning(std::string_view w) override { warnings.emplace_back(w); }
  std::string content() const {
    std::string s;
    for (const auto& c : chunks) s += c.content;
    return s;
  }
  std::string reasoning() const {
    std::string s;
    for (const auto& c : chunks) s += c.reasoning;
    return s;
  }
};

// Feeds `body` in pieces of `piece` bytes; returns the first step that is
// not kMore (or end_of_input()'s).
AnswerStep run(AnswerPipeline* p, const std::string& body, size_t piece) {
  for (size_t i = 0; i < body.size(); i += piece) {
    AnswerStep s = p->feed(std::string_view(body).substr(i, piece));
    if (s != AnswerStep::kMore) return s;
  }
  return p->end_of_input();
}

const qp::worker::toolcalls::ToolPlan kNoTools;

}  // namespace

TEST_CASE("pipeline: any split gives the same answer, one chunk per feed", "[pipeline]") {
  std::string body = event("Hel", 1) + event("lo", 2) + event(" world", 3) + kFinished;
  for (size_t piece : {size_t{1}, size_t{7}, body.size()}) {
    Sink sink;
    AnswerPipeline p({}, 0, kNoTools, &sink);
    p.begin_attempt(0);
    INFO("piece " << piece);
    REQUIRE(run(&p, body, piece) == AnswerStep::kFinished);
    CHECK(sink.content() == "Hello world");
    CHECK(p.answer() == "Hello world");
    CHECK(p.forwarded());
    CHECK(p.usage("stop").output_tokens == 3);
    if (piece == body.size()) CHECK(sink.chunks.size() == 1);  // coalesced
  }
}

TEST_CASE("pipeline: reasoning and answer go to the sink apart from each other", "[pipeline]") {
  Sink sink;
  AnswerPipeline p({}, 0, kNoTools, &sink);
  p.begin_attempt(0);
  REQUIRE(run(&p, event("hmm", 1, "think") + event("yes", 2) + kFinished, 1) ==
          AnswerStep::kFinished);
  CHECK(sink.reasoning() == "hmm");
  CHECK(sink.content() == "yes");
  CHECK(p.answer() == "yes");
}

TEST_CASE("pipeline: the stream ending early is kMore, a broken stream kStreamError",
          "[pipeline]") {
  Sink sink;
  AnswerPipeline p({}, 0, kNoTools, &sink);
  p.begin_attempt(0);
  CHECK(run(&p, event("a", 1), 3) == AnswerStep::kMore);
  CHECK(sink.content() == "a");

  AnswerPipeline bad({}, 0, kNoTools, &sink);
  bad.begin_attempt(0);
  CHECK(bad.feed(std::string(SseParser::kDefaultMaxEventBytes + 1, 'x')) ==
        AnswerStep::kStreamError);
  CHECK_FALSE(bad.stream_error().ok());
}

TEST_CASE("pipeline: max_tokens drops the text past the limit and ends with length",
          "[pipeline][limits]") {
  std::string body = event("one ", 1) + event("two ", 2) + event("three", 3) + kFinished;
  for (size_t piece : {size_t{1}, body.size()}) {
    Sink sink;
    AnswerPipeline p({}, 2, kNoTools, &sink);
    p.begin_attempt(0);
    INFO("piece " << piece);
    REQUIRE(run(&p, body, piece) == AnswerStep::kLength);
    CHECK(sink.content() == "one two ");
    CHECK(p.usage("length").output_tokens == 2);
  }
  // Finishing right at the limit is a normal end.
  Sink sink;
  AnswerPipeline p({}, 2, kNoTools, &sink);
  p.begin_attempt(0);
  REQUIRE(run(&p, event("one ", 1) + event("two", 2) + kFinished, 5) == AnswerStep::kFinished);
  CHECK(sink.content() == "one two");
}

TEST_CASE("pipeline: a stop sequence split across events ends the answer", "[pipeline][limits]") {
  std::string body = event("say EN", 1) + event("D now", 2) + kFinished;
  for (size_t piece : {size_t{1}, size_t{4}, body.size()}) {
    Sink sink;
    AnswerPipeline p({"END"}, 0, kNoTools, &sink);
    p.begin_attempt(0);
    INFO("piece " << piece);
    REQUIRE(run(&p, body, piece) == AnswerStep::kStopSequence);
    CHECK(sink.content() == "say ");
    CHECK(p.stop_matched() == "END");
  }
  // Held-back text that turned out not to be a stop sequence comes out at the end.
  Sink sink;
  AnswerPipeline p({"END"}, 0, kNoTools, &sink);
  p.begin_attempt(0);
  CHECK(p.feed(event("the EN", 1)) == AnswerStep::kMore);
  CHECK(p.held() == 2);  // "EN"
  CHECK(sink.content() == "the ");
  REQUIRE(p.feed(kFinished) == AnswerStep::kFinished);
  CHECK(sink.content() == "the EN");
  CHECK(p.stop_matched().empty());
}

TEST_CASE("pipeline: an error event is not forwarded until flushed; a new attempt starts clean",
          "[pipeline][retry]") {
  Sink sink;
  AnswerPipeline p({}, 0, kNoTools, &sink);
  p.begin_attempt(0);
  REQUIRE(p.feed(event("lost", 1) + kInternalError) == AnswerStep::kEventError);
  CHECK(p.error_cause() == RetryCause::kInternalError);
  CHECK(sink.chunks.empty());
  CHECK_FALSE(p.forwarded());
  // Retried: the failed attempt's text is dropped, the events start again.
  p.begin_attempt(0);
  CHECK(p.error_cause() == RetryCause::kNone);
  REQUIRE(p.feed(event("kept", 1) + kFinished) == AnswerStep::kFinished);
  CHECK(sink.content() == "kept");
  CHECK(p.answer() == "kept");

  // Not retried: flush() forwards what came before the error.
  Sink sink2;
  AnswerPipeline q({}, 0, kNoTools, &sink2);
  q.begin_attempt(0);
  REQUIRE(q.feed(event("partial", 1) + kInternalError) == AnswerStep::kEventError);
  q.flush();
  CHECK(sink2.content() == "partial");
  CHECK(q.forwarded());
}

namespace {

qp::worker::toolcalls::ToolPlan read_file_plan(bool parallel) {
  qp::protocol::JobRequest job;
  job.model = "qwen3-max";
  job.tools = R"([{"type":"function","function":{"name":"read_file","description":"Reads.",)"
              R"("parameters":{"type":"object","properties":{"path":{"type":"string"}},)"
              R"("required":["path"]}}}])";
  job.parallel_tool_calls = parallel;
  auto plan = qp::worker::toolcalls::plan_tools(job);
  REQUIRE(plan);
  return plan.value();
}

std::string json_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("pipeline: a tool call goes through the tool stage and stops the upstream",
          "[pipeline][tools]") {
  auto plan = read_file_plan(/*parallel=*/false);
  std::string markup =
      "Reading.\n<tool_call>\n<function=fn_read_file>\n<parameter=path>\na.txt\n</parameter>\n"
      "</function>\n</tool_call>";
  std::string body = event("thinking", 1, "think") + event(json_escaped(markup.substr(0, 30)), 2) +
                     event(json_escaped(markup.substr(30)), 3) + event("more text", 4) + kFinished;
  for (size_t piece : {size_t{3}, body.size()}) {
    Sink sink;
    AnswerPipeline p({}, 0, plan, &sink);
    p.begin_attempt(0);
    INFO("piece " << piece);
    AnswerStep step = run(&p, body, piece);
    // One feed may reach the finished event after the call: either way the answer ends.
    REQUIRE((step == AnswerStep::kToolStop || step == AnswerStep::kFinished));
    CHECK_FALSE(p.end_answer(true));
    CHECK(sink.reasoning() == "thinking");
    CHECK(sink.content() == "Reading.");
    std::string name;
    for (const auto& c : sink.chunks)
      for (const auto& d : c.tool_calls) name += d.name;
    CHECK(name == "read_file");
    CHECK(p.tool_finish_reason() == "tool_calls");
    const auto& calls = p.reply().tool_calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].id.rfind("call_", 0) == 0);
    CHECK(calls[0].name == "read_file");
    CHECK(calls[0].arguments == R"({"path":"a.txt"})");
    CHECK(p.reply().content() == "Reading.");
    CHECK(p.answer() == "Reading.");
  }
}
