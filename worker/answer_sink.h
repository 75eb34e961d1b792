// The last stage of the answer pipeline (worker/answer_pipeline.h): where the
// deltas the client gets go. ChatCall forwards them to its ChatHandler;
// tests record them.
#pragma once

#include <string_view>

#include "common/protocol/messages.h"

namespace qp::worker {

class AnswerSink {
 public:
  // chunk.content, .reasoning and/or .tool_calls hold new output. The chunk
  // is the pipeline's (reused): the sink may move out of it, and must not
  // keep references past the call.
  virtual void on_answer_chunk(protocol::JobChunk& chunk) = 0;
  // A tool parser's warning (one line, no argument values: safe to log).
  virtual void on_tool_warning(std::string_view detail) = 0;

 protected:
  ~AnswerSink() = default;
};

}  // namespace qp::worker
