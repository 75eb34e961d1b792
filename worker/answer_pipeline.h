// The answer of one chat job as a pipeline of pure stages (no I/O, no
// libcurl, no uv), from the completion's body bytes to the sink:
//
//   bytes → SseParser → QwenEventInterpreter → TokenLimit → StopFilter
//         → ToolStage (tool calls) → AnswerSink
//
// (worker/sse_parser.h, qwen_events.h, token_limit.h, stop_filter.h,
// tool_stage.h, answer_sink.h.) Deltas of the events of one feed() are
// coalesced into one chunk; the chunk and the scratch strings are reused, so
// the per-chunk path allocates nothing in the steady state.
//
// ChatCall (worker/chat_call.h) does the I/O and the retry decisions: it
// feeds the body, acts on the AnswerStep each feed returns, and calls
// begin_attempt() before each upstream attempt (a retry reuses the pipeline,
// with the stream stages reset). The pipeline also keeps what the result
// needs: the reply as the client gets it (its text and calls, the
// conversation::AssistantMessage the session key hashes), the usage, the
// stop sequence matched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/conversation/assistant_message.h"
#include "common/protocol/messages.h"
#include "worker/answer_sink.h"
#include "worker/qwen_events.h"
#include "worker/retry_policy.h"
#include "worker/sse_parser.h"
#include "worker/stop_filter.h"
#include "worker/token_limit.h"
#include "worker/tool_stage.h"

namespace qp::worker {

// What the caller has to do after a feed.
enum class AnswerStep {
  kMore,          // nothing: feed more bytes
  kFinished,      // the upstream finished the answer (all of it was forwarded)
  kLength,        // max_tokens reached while the model went on: end "length"
  kStopSequence,  // a client stop sequence matched: end "stop"
  kToolStop,      // the tool stage has the client's answer: stop upstream, end
  kEventError,    // an error event: failure(), error_cause(); deltas pending
  kStreamError,   // the event stream itself is broken: stream_error()
};

class AnswerPipeline final : private AnswerSink {
 public:
  // `stops`: the client's stop sequences; `max_tokens` <= 0: no limit.
  // `plan` and `sink` must outlive the pipeline.
  AnswerPipeline(const std::vector<std::string>& stops, int64_t max_tokens,
                 const toolcalls::ToolPlan& plan, AnswerSink* sink);
  AnswerPipeline(const AnswerPipeline&) = delete;
  AnswerPipeline& operator=(const AnswerPipeline&) = delete;

  // Before each upstream attempt: the stream stages start again (SSE, events,
  // token limit, a new tool parser for `tool_attempt`); pending deltas are
  // dropped. What was forwarded stays forwarded.
  void begin_attempt(int tool_attempt);
  // Body bytes of the completion. Stops at the first step that is not kMore.
  AnswerStep feed(std::string_view bytes);
  // The body ended. kMore: the stream ended before the answer did.
  AnswerStep end_of_input();
  // After kEventError that is not retried: forwards the pending deltas.
  void flush();
  // The end of the answer for the tool stage (see ToolStage::finish): true
  // when the request should be asked again (attempt 1) and `may_retry`.
  bool end_answer(bool may_retry) { return tools_.finish(may_retry, this); }

  // Something reached the sink (a retry would be visible).
  bool forwarded() const { return forwarded_; }
  // Text held back by the stop filter (seen by the pipeline, not yet out).
  size_t held() const { return stop_.held(); }
  const QwenEventInterpreter& events() const { return events_; }
  const UpstreamFailure& failure() const { return events_.failure(); }
  RetryCause error_cause() const { return error_cause_; }  // after kEventError
  const Status& stream_error() const { return sse_.status(); }
  // The usage to report for `finish_reason` ("length": the one at the limit).
  const StreamUsage& usage(std::string_view finish_reason) const;
  const std::string& stop_matched() const { return stop_.matched(); }
  bool tools_on() const { return tools_.on(); }
  std::string_view tool_finish_reason() const { return tools_.finish_reason(); }
  // Non-streamed JSON mode: the reply is returned without a code fence.
  void set_unfenced_json(bool on) { reply_.set_unfenced_json(on); }
  // Every chunk forwarded, as the client's assistant message (text, calls).
  const conversation::AssistantMessage& reply() const { return reply_; }
  // The answer text forwarded (as streamed: with any fence).
  const std::string& answer() const { return reply_.raw_content(); }

 private:
  AnswerStep drain();
  void on_answer_chunk(protocol::JobChunk& chunk) override;
  void on_tool_warning(std::string_view detail) override { sink_->on_tool_warning(detail); }

  AnswerSink* sink_;
  SseParser sse_;
  QwenEventInterpreter events_;
  TokenLimit limit_;
  StopFilter stop_;
  ToolStage tools_;
  protocol::JobChunk chunk_;              // pending deltas, reused
  std::string raw_;                       // one event's answer text before the stop filter, reused
  conversation::AssistantMessage reply_;  // every chunk forwarded
  RetryCause error_cause_ = RetryCause::kNone;
  bool forwarded_ = false;
};

}  // namespace qp::worker
