#include "worker/toolcalls/roo_scanner.h"

#include <algorithm>

#include "worker/toolcalls/tag_match.h"

namespace qp::worker::toolcalls {

RooScanner::RooScanner(std::string_view tool, const ParamNames* params)
    : tool_(tool), params_(params) {
  close_tool_ = "</";
  close_tool_.append(tool).push_back('>');
}

RooScanner::Step RooScanner::scan(std::string_view text, bool at_end) {
  size_t i = 0;
  while (true) {
    size_t p = text.find('<', i);
    if (p == std::string_view::npos) return {text.size(), false};
    std::string_view rest = text.substr(p);
    if (in_param()) {
      Match m = match_literal(rest, close_param_);
      if (m == Match::kFull) {
        i = p + close_param_.size();
        param_.clear();
        close_param_.clear();
        continue;
      }
      if (m == Match::kPartial && !at_end) return {p, false};
      i = p + 1;
      continue;
    }
    Match m = match_literal(rest, close_tool_);
    if (m == Match::kFull) return {p + close_tool_.size(), true};
    if (m == Match::kPartial && !at_end) return {p, false};
    size_t j = 1;
    while (j < rest.size() && j <= kMaxTagName + 1 && tag_name_char(rest[j])) ++j;
    if (j >= rest.size() && j <= kMaxTagName + 1 && !at_end) return {p, false};  // name cut off
    if (j < rest.size() && rest[j] == '>' && j > 1 &&
        params_->is_param(tool_, rest.substr(1, j - 1))) {
      param_.assign(rest.substr(1, j - 1));
      close_param_ = "</" + param_ + ">";
      i = p + j + 1;
      continue;
    }
    i = p + 1;
  }
}

size_t RooScanner::partial_close(std::string_view block) const {
  if (!in_param()) return 0;
  for (size_t k = std::min(close_param_.size() - 1, block.size()); k >= 2; --k) {
    if (block.substr(block.size() - k) == std::string_view(close_param_).substr(0, k)) return k;
  }
  return 0;
}

bool RooScanner::cut_in_value(std::string_view block) const {
  return in_param() && partial_close(block) == 0;
}

std::string RooScanner::closing(std::string_view tail) const {
  std::string out;
  if (in_param()) {
    if (tail.empty() || match_literal(tail, close_param_) != Match::kPartial) out.append(tail);
    out.append(close_param_).append("\n").append(close_tool_);
  } else {
    if (tail.empty() || match_literal(tail, close_tool_) != Match::kPartial) {
      out.append(tail).append("\n");
    }
    out.append(close_tool_);
  }
  return out;
}

}  // namespace qp::worker::toolcalls
