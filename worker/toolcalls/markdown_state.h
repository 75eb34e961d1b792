// Tracks whether the answer text is inside Markdown code — a fenced block
// (``` or ~~~ at the start of a line, up to three spaces in) or an inline
// code span (`…`, reset at each line break) — so the parsers do not turn a
// tool tag shown as inline code into a call. Fed every byte of ordinary text
// once, in order. Pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace qp::worker::toolcalls {

class MarkdownState {
 public:
  void consume(std::string_view text) {
    for (char c : text) consume(c);
  }
  void consume(char c);
  // Whether the next byte, if it is not '`' or '~', would be code. Ends a
  // pending backtick or tilde run first (the byte at hand ends it anyway).
  bool in_code();
  // Only an inline code span (or a fence's opening/closing line): the
  // parsers take calls inside fenced blocks, as Roo Code does.
  bool in_inline_code();

 private:
  void end_run();

  bool line_start_ = true;  // only spaces so far on this line
  uint8_t indent_ = 0;      // leading spaces on this line
  char run_char_ = 0;       // pending run of '`' or '~'
  uint32_t run_len_ = 0;
  bool run_at_line_start_ = false;
  char fence_char_ = 0;  // open fence, 0 = none
  uint32_t fence_len_ = 0;
  bool fence_line_ = false;  // rest of an opening/closing fence line (info string)
  uint32_t inline_len_ = 0;  // open inline code span's backtick count, 0 = none
};

}  // namespace qp::worker::toolcalls
