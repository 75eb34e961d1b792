// Finds where a Roo-style tool block (`<NAME>…</NAME>`) ends, exactly as
// Roo Code's AssistantMessageParser does, fed the block's text in pieces.
// Inside the block there are two states: TOOL, where `</NAME>` closes the
// block and `<P>` (P a parameter name) opens a parameter, and PARAM, where
// only `</P>` is recognised (so a value may contain any other tag, and a
// nested tool tag is just text). Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "worker/toolcalls/call_markup.h"

namespace qp::worker::toolcalls {

class RooScanner {
 public:
  // REQUIRES: `params` outlives the scanner.
  RooScanner(std::string_view tool, const ParamNames* params);

  struct Step {
    size_t consumed = 0;  // bytes of `text` decided (scanned for good)
    bool closed = false;  // the block ended; `consumed` ends right after `</NAME>`
  };
  // Scans `text`, the block's bytes after those already consumed. Unless
  // at_end, a possible tag cut off at the end of `text` stays unconsumed
  // (at most kMaxTagName + 3 bytes).
  Step scan(std::string_view text, bool at_end);

  bool in_param() const { return !param_.empty(); }
  // For a block cut off now, whose text so far is `block`: whether the cut
  // fell inside a value. A block that ends in the start of the value's
  // closing tag ("…src/x.cc</pa", at least "</") has its value complete.
  bool cut_in_value(std::string_view block) const;
  // The length of that closing-tag start at the end of `block` (0: none).
  size_t partial_close(std::string_view block) const;
  // The text to emit instead of `tail` (the unconsumed rest) to close a block
  // cut off now: tail + "</P>\n</NAME>" in PARAM, tail + "\n</NAME>" in TOOL;
  // a tail that is the start of the expected closing tag is completed
  // rather than repeated ("</pa" → "</path>").
  std::string closing(std::string_view tail) const;

 private:
  std::string tool_;
  std::string close_tool_;   // "</NAME>"
  std::string close_param_;  // "</P>" while in PARAM
  std::string param_;
  const ParamNames* params_;
};

}  // namespace qp::worker::toolcalls
