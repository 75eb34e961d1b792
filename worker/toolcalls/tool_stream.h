// The streaming side of tool calling, as the worker sees it: every upstream
// answer-text delta goes into feed(), the end of the answer into finish(),
// and what comes out is forwarded to the client as protocol chunks. Pure:
// no I/O, bounded memory, any split of the input gives the same result.
//
// Worker loop (one stream per upstream attempt):
//
//   auto stream = make_tool_stream(plan, {});
//   on text delta:  out.clear(); stream->feed(delta, &out); forward(out);
//                   if (stream->stop_upstream()) cancel the upstream request,
//                   then treat it as the end of the answer;
//   on answer end:  out.clear(); stream->finish(&out);
//                   if (stream->retry_wanted()) { nothing was sent: ask again
//                     with render_retry_instruction(plan) added, new stream
//                     with options.attempt = 1 }
//                   else { forward(out); JobDone.finish_reason =
//                     stream->finish_reason() if not empty, else upstream's }
//   forward(out):   send each chunk in out.chunks;
//                   log each of out.warnings (QP_WARN "tools.*").
//
// Reasoning deltas do not go through the stream.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"
#include "worker/toolcalls/tool_plan.h"

namespace qp::worker::toolcalls {

// What one feed()/finish() produced, in order.
struct StreamOutput {
  std::vector<protocol::JobChunk> chunks;
  std::vector<std::string> warnings;  // one line each, safe to log (no argument values)

  void clear() {
    chunks.clear();
    warnings.clear();
  }
  // Appends text, merged into the last chunk when that one is text only.
  void add_text(std::string_view text);
  // Appends one whole call: a delta with index, id and name, then one with
  // the complete arguments.
  void add_call(int32_t index, std::string id, std::string name, std::string arguments);
  // All text of the chunks, concatenated.
  std::string text() const;
};

struct StreamOptions {
  int attempt = 0;  // 1 = the retry after render_retry_instruction (no further retry)
  // Call ids; the default is "call_" + 24 random hex digits. Tests inject a counter.
  std::function<std::string()> next_id;
  size_t max_call_bytes = 1 << 20;       // a call block longer than this is text
  size_t max_held_text_bytes = 1 << 20;  // text held while a call is required
  size_t xml_lookahead_bytes = 2048;     // XML mode: plain text seen before wrapping
};

class ToolStream {
 public:
  virtual ~ToolStream() = default;
  virtual void feed(std::string_view text, StreamOutput* out) = 0;
  virtual void finish(StreamOutput* out) = 0;

  // The answer is complete as far as the client is concerned (a single call
  // was returned, or XML mode's one tool call closed): cancel the upstream.
  // Later feeds are ignored; finish() is still to be called.
  virtual bool stop_upstream() const = 0;
  // After finish(): nothing was output and the request should be asked once
  // more with the firmer instruction (tool_choice required/named, first try).
  virtual bool retry_wanted() const { return false; }
  // "tool_calls" when calls were returned, else empty (keep upstream's).
  virtual std::string_view finish_reason() const { return {}; }
  // Memory accounting: bytes held now, and the most this stream ever holds.
  virtual size_t buffered_bytes() const = 0;
  virtual size_t max_buffered_bytes() const = 0;
};

// kOff gives a pass-through stream; kNative and kXml the parsers of
// native_stream.h and xml_stream.h. REQUIRES: `plan` outlives the stream.
std::unique_ptr<ToolStream> make_tool_stream(const ToolPlan& plan, StreamOptions options);

}  // namespace qp::worker::toolcalls
