// The tool-call stage of the answer pipeline (worker/answer_pipeline.h): the
// answer text of one upstream attempt goes through the job's tool parser
// (worker/toolcalls/tool_stream.h: native or Roo Code XML) and what it outputs
// goes to the sink. Pure: no I/O.
// (The calls returned are kept by the pipeline's AssistantMessage, from the
// chunks this stage outputs: common/conversation/assistant_message.h.)
//
//   stage.begin(attempt);              per upstream attempt
//   stage.feed(text, sink);            per answer-text delta
//   if (stage.stopped()) …             the client has its answer: stop upstream
//   if (stage.finish(may_retry, sink)) ask again (attempt 1), nothing was output
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "worker/answer_sink.h"
#include "worker/toolcalls/tool_plan.h"
#include "worker/toolcalls/tool_stream.h"

namespace qp::worker {

class ToolStage {
 public:
  // `plan` must outlive the stage.
  explicit ToolStage(const toolcalls::ToolPlan& plan) : plan_(plan) {}
  ToolStage(const ToolStage&) = delete;
  ToolStage& operator=(const ToolStage&) = delete;

  // Tool calling is on for the job (the plan's mode is not kOff).
  bool on() const { return plan_.mode != toolcalls::ToolMode::kOff; }
  // A new parser for an upstream attempt (0: first, 1: the firmer retry).
  void begin(int attempt);
  // True between begin() and the end of the job: text goes through feed().
  bool active() const { return stream_ != nullptr; }
  // Answer text: parsed, the output (text, calls, warnings) to the sink.
  // Ignored once stopped().
  void feed(std::string_view text, AnswerSink* sink);
  // The parser has the client's answer (its one call, XML mode's one tool
  // use): the rest of the upstream generation is not needed.
  bool stopped() const { return stopped_; }
  // The end of the answer. Returns true (and outputs nothing) when the
  // parser wants the request asked again and `may_retry`; else the rest of
  // the output goes to the sink and it returns false.
  bool finish(bool may_retry, AnswerSink* sink);
  // "tool_calls" once calls were returned, else empty.
  std::string_view finish_reason() const;

 private:
  void forward(AnswerSink* sink);

  const toolcalls::ToolPlan& plan_;
  std::unique_ptr<toolcalls::ToolStream> stream_;
  toolcalls::StreamOutput out_;  // reused
  bool stopped_ = false;
};

}  // namespace qp::worker
