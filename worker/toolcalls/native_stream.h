// Native mode: turns the model's tool-call markup in the answer text into
// OpenAI tool_calls (docs/tools.md). Pure; see tool_stream.h for the
// contract and the worker loop.
//
// Text. Ordinary text is output as soon as it arrives. Only a '<' that may
// start a call tag is held back, and only until the tag is complete or
// ruled out: `<tool_call>`, `<function=N>` and `<N>` (N a tool name, with or
// without the upstream prefix) count only when the next non-blank byte
// after the tag is '<', '{' or '[' (so "use the <read_file> tool" in prose
// stays text), and never inside inline code spans; inside fenced blocks
// they count, as with Roo Code's own parser. Content never starts or ends
// with whitespace, and the whitespace right before a call is dropped, so it
// is not left holding line breaks; it is held with the block and output
// again, byte for byte, when the block turns out not to be a call.
//
// Calls. A call block is buffered up to its closing tag (or options'
// max_call_bytes, beyond which it is text), then parsed (call_markup.h),
// its name resolved and its arguments checked (arguments.h). A good call is
// output as two deltas: {index, id, name, arguments:""} and {index,
// arguments: <the whole JSON>}; arguments are never streamed raw, since they
// can only be checked once complete; they are first reshaped to the declared
// schema (schema_map.h). A bad one (unknown tool, arguments that cannot be
// repaired, a block cut off inside a value) is output as the text it was,
// with a warning.
//
// tool_choice. With parallel_tool_calls false or a named choice, the first
// good call ends the answer (stop_upstream()). With "required" or a named
// choice, text is held instead of output until a call arrives; a reply
// without one asks for a retry (retry_wanted()) on the first attempt and on
// the retry becomes an attempt_completion call when the client has that
// tool, else plain text. With Roo Code detected (tool_choice auto), text
// streams at once and a reply without a call ends with an attempt_completion
// call whose result points to the text above (kPointerResult) instead of
// repeating it. An empty reply stays empty.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "worker/toolcalls/markdown_state.h"
#include "worker/toolcalls/roo_scanner.h"
#include "worker/toolcalls/tag_match.h"
#include "worker/toolcalls/tool_stream.h"

namespace qp::worker::toolcalls {

inline constexpr std::string_view kPointerResult = "The answer is in the message above.";

class NativeStream final : public ToolStream {
 public:
  // REQUIRES: plan.mode == kNative; `plan` outlives the stream.
  NativeStream(const ToolPlan& plan, StreamOptions options);

  void feed(std::string_view text, StreamOutput* out) override;
  void finish(StreamOutput* out) override;
  bool stop_upstream() const override { return stopped_; }
  bool retry_wanted() const override { return retry_wanted_; }
  std::string_view finish_reason() const override;
  size_t buffered_bytes() const override;
  size_t max_buffered_bytes() const override;

 private:
  enum class State : uint8_t { kText, kCall, kDone };
  enum class Kind : uint8_t { kToolCall, kFunction, kTag };

  class ToolParams : public ParamNames {
   public:
    explicit ToolParams(const ToolSet* tools) : tools_(tools) {}
    bool is_param(std::string_view tool, std::string_view name) const override;

   private:
    const ToolSet* tools_;
  };

  void process(bool at_end, StreamOutput* out);
  bool text_step(size_t* pos, bool at_end, StreamOutput* out);
  bool call_step(size_t* pos, bool at_end, StreamOutput* out);
  // Is buf_[lt] ('<') the start of a call? kPartial: wait for more text.
  Match call_start_at(size_t lt, bool at_end);
  void end_call(std::string_view inner, std::string_view block, bool truncated, StreamOutput* out);
  bool accept(std::vector<struct RawCall>& calls, StreamOutput* out, std::string* why);
  void emit_text(std::string_view text, StreamOutput* out);
  void sink(std::string_view text, StreamOutput* out);
  void add_call(const std::string& name, std::string args, StreamOutput* out);
  void release_held(StreamOutput* out);
  void restore_call_ws();  // a block that was not a call: its blanks are text again

  const ToolPlan& plan_;
  StreamOptions opt_;
  ToolParams params_;
  TagNames tag_names_;
  MarkdownState md_;
  State state_ = State::kText;
  std::string buf_;  // unconsumed input: a held tag start, or the call block so far

  // The call being read (state_ == kCall); offsets are from its '<'.
  Kind kind_ = Kind::kToolCall;
  std::string name_;       // kFunction / kTag: the name in the opening tag
  size_t opener_len_ = 0;  // length of the opening tag
  size_t scanned_ = 0;     // bytes of the block already searched
  RooScanner roo_;         // kTag

  std::string ws_;       // trailing whitespace not yet output
  std::string call_ws_;  // the whitespace before the call block being read
  bool holding_;         // must_call(): text waits in held_ until a call arrives
  std::string held_;
  bool had_text_ = false;  // some non-blank text was output or held
  int calls_ = 0;
  bool stopped_ = false;
  bool retry_wanted_ = false;
  bool finished_ = false;
};

}  // namespace qp::worker::toolcalls
