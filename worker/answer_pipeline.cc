#include "worker/answer_pipeline.h"

#include <utility>

namespace qp::worker {

AnswerPipeline::AnswerPipeline(const std::vector<std::string>& stops, int64_t max_tokens,
                               const toolcalls::ToolPlan& plan, AnswerSink* sink)
    : sink_(sink), limit_(max_tokens), stop_(stops), tools_(plan) {}

void AnswerPipeline::begin_attempt(int tool_attempt) {
  sse_ = SseParser();
  events_.reset();
  limit_.reset();
  tools_.begin(tool_attempt);
  chunk_.content.clear();
  chunk_.reasoning.clear();
  error_cause_ = RetryCause::kNone;
}

AnswerStep AnswerPipeline::feed(std::string_view bytes) {
  sse_.feed(bytes);
  return drain();
}

AnswerStep AnswerPipeline::end_of_input() {
  sse_.finish();  // the last event may lack its blank line
  return drain();
}

AnswerStep AnswerPipeline::drain() {
  std::string_view data;
  while (sse_.next(&data)) {
    // With stop sequences the answer text goes through the filter first.
    std::string* text = &chunk_.content;
    if (stop_.active()) {
      raw_.clear();
      text = &raw_;
    }
    size_t text_before = text->size();
    size_t reasoning_before = chunk_.reasoning.size();
    EventOutcome o = events_.interpret(data, text, &chunk_.reasoning);
    if (o == EventOutcome::kContinue &&
        limit_.exceeded(text->size() > text_before || chunk_.reasoning.size() > reasoning_before)) {
      // max_tokens was reached and the model goes on: drop this text.
      text->resize(text_before);
      chunk_.reasoning.resize(reasoning_before);
      flush();
      return AnswerStep::kLength;
    }
    if (stop_.active() && stop_.feed(raw_, &chunk_.content)) {
      flush();
      return AnswerStep::kStopSequence;
    }
    if (o == EventOutcome::kContinue) {
      limit_.observe(events_.usage());
      continue;
    }
    if (o == EventOutcome::kError) {
      // Not flushed: a retry drops what this attempt parsed.
      error_cause_ = retry_cause(data);
      return AnswerStep::kEventError;
    }
    stop_.finish(&chunk_.content);  // kFinished: the held-back text
    flush();
    return AnswerStep::kFinished;
  }
  flush();
  if (tools_.stopped()) return AnswerStep::kToolStop;
  if (!sse_.status().ok()) return AnswerStep::kStreamError;
  return AnswerStep::kMore;
}

void AnswerPipeline::flush() {
  if (chunk_.content.empty() && chunk_.reasoning.empty()) return;
  if (tools_.active()) {
    if (!chunk_.reasoning.empty()) {
      // Reasoning does not go through the tool parser: out first, alone.
      std::string text = std::move(chunk_.content);
      chunk_.content.clear();
      on_answer_chunk(chunk_);
      chunk_.reasoning.clear();
      chunk_.content = std::move(text);
    }
    if (!chunk_.content.empty()) {
      tools_.feed(chunk_.content, this);
      chunk_.content.clear();
    }
    return;
  }
  on_answer_chunk(chunk_);
  chunk_.content.clear();
  chunk_.reasoning.clear();
}

void AnswerPipeline::on_answer_chunk(protocol::JobChunk& chunk) {
  forwarded_ = true;
  reply_.add(chunk);
  sink_->on_answer_chunk(chunk);
}

const StreamUsage& AnswerPipeline::usage(std::string_view finish_reason) const {
  return finish_reason == "length" ? limit_.usage_at_limit() : events_.usage();
}

}  // namespace qp::worker
