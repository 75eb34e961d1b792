#include "worker/tool_stage.h"

#include <utility>

namespace qp::worker {

void ToolStage::begin(int attempt) {
  if (!on()) return;
  toolcalls::StreamOptions options;
  options.attempt = attempt;
  stream_ = toolcalls::make_tool_stream(plan_, std::move(options));
  stopped_ = false;
}

void ToolStage::feed(std::string_view text, AnswerSink* sink) {
  if (stopped_ || !stream_) return;
  out_.clear();
  stream_->feed(text, &out_);
  forward(sink);
  if (stream_->stop_upstream()) stopped_ = true;
}

bool ToolStage::finish(bool may_retry, AnswerSink* sink) {
  if (!stream_) return false;
  out_.clear();
  stream_->finish(&out_);
  if (stream_->retry_wanted() && may_retry) {
    out_.clear();
    return true;
  }
  forward(sink);
  return false;
}

std::string_view ToolStage::finish_reason() const {
  return stream_ ? stream_->finish_reason() : std::string_view{};
}

void ToolStage::forward(AnswerSink* sink) {
  for (const std::string& w : out_.warnings) sink->on_tool_warning(w);
  for (protocol::JobChunk& c : out_.chunks) {
    if (c.content.empty() && c.reasoning.empty() && c.tool_calls.empty()) continue;
    sink->on_answer_chunk(c);
  }
  out_.clear();
}

}  // namespace qp::worker
