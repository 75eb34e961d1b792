// XML mode (Roo Code ≤ v3.41 without a `tools` array): the answer stays text
// and must carry exactly one XML tool call that Roo Code's parser accepts
// (docs/tools.md). Pure; see tool_stream.h for the contract.
//
// Tool tags are recognised exactly as Roo Code does (roo_scanner.h): `<N>`
// for N in the catalogue opens a call anywhere, code fences included, since
// Roo Code would execute it there too.
//
//   - A model call passes through unchanged, byte for byte (write_to_file
//     bodies with `<` and `</content>` included); the text before it stays
//     text. The call is held until it closes (up to max_call_bytes; a longer
//     one streams on), then output, and the stream stops (stop_upstream()):
//     Roo Code runs one tool per message. A call cut off by the end of the
//     answer between values (or inside a closing tag) is closed (`</param>`
//     and `</tool>` appended) so it parses; one cut off inside a value is
//     text and wrapped like plain text, since Roo Code would run it with the
//     half-written value (native mode makes it text too).
//   - Plain text is held back while it may still be the preamble of a call,
//     up to options' xml_lookahead_bytes. `<thinking>…</thinking>` (or
//     <think>) at the start passes through at once and does not count. Past
//     the lookahead, or at the end of the answer, the text is wrapped:
//     `<attempt_completion>\n<result>\n` … `\n</result>\n</attempt_completion>`,
//     and the rest of the answer streams inside. A literal `</result>` in the
//     text is written `&lt;/result&gt;` so it cannot end the result early.
//   - A tool tag that appears after the text was wrapped is not put inside
//     the result: the result is closed before it and the stream stops (the
//     late call is dropped, with a warning). A longer lookahead makes this
//     rarer at the cost of a later first byte for plain answers.
//   - The model's drift markup (<tool_call>{json}</tool_call>,
//     <function=N><parameter=P>…) naming a catalogue tool is rewritten as
//     the equivalent Roo XML call (also inside fenced blocks, not inside
//     inline code, and not when the answer ends inside one of its values).
//   - A reply of nothing but whitespace stays empty (Roo Code retries empty
//     replies itself); a reply of nothing but reasoning gets a result that
//     points to it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "worker/toolcalls/markdown_state.h"
#include "worker/toolcalls/roo_scanner.h"
#include "worker/toolcalls/tag_match.h"
#include "worker/toolcalls/tool_stream.h"

namespace qp::worker::toolcalls {

inline constexpr std::string_view kWrapOpen = "<attempt_completion>\n<result>\n";
inline constexpr std::string_view kWrapClose = "\n</result>\n</attempt_completion>";

class XmlStream final : public ToolStream {
 public:
  // REQUIRES: plan.mode == kXml; `plan` outlives the stream.
  XmlStream(const ToolPlan& plan, StreamOptions options);

  void feed(std::string_view text, StreamOutput* out) override;
  void finish(StreamOutput* out) override;
  bool stop_upstream() const override { return stopped_; }
  size_t buffered_bytes() const override { return buf_.size() + pending_.size(); }
  size_t max_buffered_bytes() const override;

 private:
  enum class State : uint8_t { kUndecided, kWrapped, kCall, kDrift, kDone };
  enum class Drift : uint8_t { kToolCall, kFunction };

  class CatalogParams : public ParamNames {
   public:
    explicit CatalogParams(const XmlCatalog* c) : catalog_(c) {}
    bool is_param(std::string_view, std::string_view name) const override {
      return catalog_->has_param(name);
    }

   private:
    const XmlCatalog* catalog_;
  };

  void process(bool at_end, StreamOutput* out);
  bool undecided_step(size_t* pos, bool at_end, StreamOutput* out);
  bool wrapped_step(size_t* pos, bool at_end, StreamOutput* out);
  bool call_step(size_t* pos, bool at_end, StreamOutput* out);
  bool drift_step(size_t* pos, bool at_end, StreamOutput* out);
  Match drift_start_at(std::string_view rest, bool at_end);
  bool convert_drift(std::string_view inner, StreamOutput* out, std::string* why);
  bool drift_failed(const std::string& why, size_t* pos, StreamOutput* out);
  void take(std::string_view text, StreamOutput* out);  // undecided text
  bool commit_if_long(StreamOutput* out);
  void wrap_pending(StreamOutput* out);
  void emit(std::string_view text, StreamOutput* out);

  const ToolPlan& plan_;
  StreamOptions opt_;
  CatalogParams params_;
  TagNames tools_;
  State state_ = State::kUndecided;
  std::string buf_;
  std::string pending_;  // undecided text that may still be wrapped
  MarkdownState md_;     // undecided text: drift markup in code is not converted
  bool in_thinking_ = false;
  bool output_ = false;  // something non-blank was output
  RooScanner roo_;
  Drift drift_ = Drift::kToolCall;
  std::string drift_name_;
  size_t opener_len_ = 0;
  size_t scanned_ = 0;
  uint64_t erased_ = 0;                   // bytes dropped from the front of buf_ so far
  uint64_t no_closer_until_[2] = {0, 0};  // per Drift kind: no closing tag before this offset
  bool call_streaming_ = false;           // kCall: too long to hold, streams as it comes
  bool stopped_ = false;
  bool finished_ = false;
};

}  // namespace qp::worker::toolcalls
