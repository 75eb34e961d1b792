#include "worker/toolcalls/markdown_state.h"

namespace qp::worker::toolcalls {

void MarkdownState::end_run() {
  if (run_char_ == 0) return;
  char c = run_char_;
  uint32_t n = run_len_;
  bool at_start = run_at_line_start_;
  run_char_ = 0;
  run_len_ = 0;
  if (at_start && n >= 3 && inline_len_ == 0) {
    if (fence_char_ == 0) {
      fence_char_ = c;
      fence_len_ = n;
      fence_line_ = true;
      return;
    }
    if (c == fence_char_ && n >= fence_len_) {
      fence_char_ = 0;
      fence_len_ = 0;
      fence_line_ = true;
      return;
    }
  }
  if (fence_char_ != 0 || c != '`') return;
  if (inline_len_ == 0)
    inline_len_ = n;
  else if (inline_len_ == n)
    inline_len_ = 0;
}

void MarkdownState::consume(char c) {
  if (c == '`' || c == '~') {
    if (run_char_ == c) {
      ++run_len_;
      return;
    }
    end_run();
    run_char_ = c;
    run_len_ = 1;
    run_at_line_start_ = line_start_ && indent_ <= 3 && !fence_line_;
    line_start_ = false;
    return;
  }
  end_run();
  if (c == '\n') {
    line_start_ = true;
    indent_ = 0;
    inline_len_ = 0;
    fence_line_ = false;
    return;
  }
  if (line_start_ && c == ' ') {
    if (indent_ < 255) ++indent_;
    return;
  }
  line_start_ = false;
}

bool MarkdownState::in_inline_code() {
  end_run();
  return fence_line_ || inline_len_ != 0;
}

bool MarkdownState::in_code() {
  end_run();
  return fence_char_ != 0 || fence_line_ || inline_len_ != 0;
}

}  // namespace qp::worker::toolcalls
