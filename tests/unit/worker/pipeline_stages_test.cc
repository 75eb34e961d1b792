// The answer pipeline's own stages (worker/answer_pipeline.h) one by one:
// TokenLimit and ToolStage. (SseParser, QwenEventInterpreter and StopFilter
// have their own tests.)
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/conversation/assistant_message.h"
#include "worker/token_limit.h"
#include "worker/tool_stage.h"

using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

namespace {

StreamUsage used(int64_t output) {
  StreamUsage u;
  u.present = true;
  u.output_tokens = output;
  return u;
}

}  // namespace

TEST_CASE("token limit: text after the limit is past it; usage at the limit is kept",
          "[pipeline][limits]") {
  TokenLimit limit(3);
  limit.observe(used(2));
  CHECK_FALSE(limit.reached());
  CHECK_FALSE(limit.exceeded(true));
  limit.observe(used(3));
  CHECK(limit.reached());
  CHECK_FALSE(limit.exceeded(false));  // an event without text (usage, finished) is fine
  CHECK(limit.exceeded(true));
  limit.observe(used(9));
  CHECK(limit.usage_at_limit().output_tokens == 3);
  limit.reset();
  CHECK_FALSE(limit.reached());
  CHECK_FALSE(limit.exceeded(true));
}

TEST_CASE("token limit: none when max_tokens is not set", "[pipeline][limits]") {
  TokenLimit limit(0);
  limit.observe(used(1'000'000));
  CHECK_FALSE(limit.reached());
  CHECK_FALSE(limit.exceeded(true));
}

namespace {

struct Sink final : AnswerSink {
  std::vector<qp::protocol::JobChunk> chunks;
  std::vector<std::string> warnings;
  void on_answer_chunk(qp::protocol::JobChunk& c) override { chunks.push_back(c); }
  void on_tool_warning(std::string_view w) override { warnings.emplace_back(w); }
};

toolcalls::ToolPlan plan_with(std::string_view tool_choice) {
  qp::protocol::JobRequest job;
  job.model = "qwen3-max";
  job.tools = R"([{"type":"function","function":{"name":"read_file","description":"Reads.",)"
              R"("parameters":{"type":"object","properties":{"path":{"type":"string"}},)"
              R"("required":["path"]}}}])";
  job.tool_choice = std::string(tool_choice);
  auto plan = toolcalls::plan_tools(job);
  REQUIRE(plan);
  return plan.value();
}

}  // namespace

TEST_CASE("tool stage: off without tools, passes nothing through before begin()",
          "[pipeline][tools]") {
  toolcalls::ToolPlan off;
  ToolStage stage(off);
  CHECK_FALSE(stage.on());
  stage.begin(0);
  CHECK_FALSE(stage.active());
  Sink sink;
  CHECK_FALSE(stage.finish(true, &sink));
  CHECK(stage.finish_reason().empty());
}

TEST_CASE("tool stage: calls come out with the request id", "[pipeline][tools]") {
  auto plan = plan_with("");
  ToolStage stage(plan);
  REQUIRE(stage.on());
  stage.begin(0);
  Sink sink;
  stage.feed("Sure.\n<tool_call>\n<function=fn_read_file>\n<parameter=path>\nx\"y\n", &sink);
  stage.feed("</parameter>\n</function>\n</tool_call>", &sink);
  CHECK_FALSE(stage.finish(true, &sink));
  std::string text, name;
  for (const auto& c : sink.chunks) {
    text += c.content;
    for (const auto& d : c.tool_calls) name += d.name;
  }
  CHECK(text == "Sure.");
  CHECK(name == "read_file");
  CHECK(stage.finish_reason() == "tool_calls");
  qp::conversation::AssistantMessage message;
  for (const auto& c : sink.chunks) message.add(c);
  REQUIRE(message.tool_calls().size() == 1);
  CHECK(message.tool_calls()[0].arguments == R"({"path":"x\"y"})");
}

TEST_CASE("tool stage: a required call that never came asks for a retry, once",
          "[pipeline][tools][retry]") {
  auto plan = plan_with(R"("required")");
  ToolStage stage(plan);
  stage.begin(0);
  Sink sink;
  stage.feed("I would rather chat.", &sink);
  CHECK(stage.finish(/*may_retry=*/true, &sink));
  CHECK(sink.chunks.empty());  // nothing went out
  // The retry (attempt 1) does not ask again.
  stage.begin(1);
  stage.feed("Still chatting.", &sink);
  CHECK_FALSE(stage.finish(true, &sink));
  CHECK_FALSE(sink.chunks.empty());
}
