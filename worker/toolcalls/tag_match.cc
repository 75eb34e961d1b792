#include "worker/toolcalls/tag_match.h"

#include <algorithm>

namespace qp::worker::toolcalls {

Match match_literal(std::string_view text, std::string_view tag) {
  size_t n = std::min(text.size(), tag.size());
  if (text.substr(0, n) != tag.substr(0, n)) return Match::kNone;
  return n == tag.size() ? Match::kFull : Match::kPartial;
}

bool tag_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

TagNames::TagNames(std::vector<std::string> names) : names_(std::move(names)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

bool TagNames::contains(std::string_view name) const {
  return std::binary_search(names_.begin(), names_.end(), name,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

bool TagNames::is_prefix(std::string_view partial) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), partial,
                             [](std::string_view a, std::string_view b) { return a < b; });
  return it != names_.end() && std::string_view(*it).substr(0, partial.size()) == partial;
}

Match match_name_tag(std::string_view text, const TagNames& names, std::string_view* name,
                     size_t* length) {
  size_t i = 1;
  while (i < text.size() && i <= kMaxTagName + 1 && tag_name_char(text[i])) ++i;
  std::string_view n = text.substr(1, i - 1);
  if (i >= text.size()) return (names.is_prefix(n)) ? Match::kPartial : Match::kNone;
  if (text[i] != '>' || n.empty() || !names.contains(n)) return Match::kNone;
  *name = n;
  *length = i + 1;
  return Match::kFull;
}

Match match_function_tag(std::string_view text, std::string_view* name, size_t* length) {
  constexpr std::string_view kOpen = "<function=";
  Match m = match_literal(text, kOpen);
  if (m != Match::kFull) return m;
  size_t i = kOpen.size();
  size_t start = i;
  char quote = 0;
  if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
    quote = text[i];
    start = ++i;
  }
  while (i < text.size() && i - start <= kMaxTagName && (tag_name_char(text[i]) || text[i] == '.'))
    ++i;
  if (i - start > kMaxTagName) return Match::kNone;
  size_t end = i;
  if (quote != 0) {
    if (i >= text.size()) return Match::kPartial;
    if (text[i] != quote) return Match::kNone;
    ++i;
  }
  if (i >= text.size()) return Match::kPartial;
  if (text[i] != '>' || end == start) return Match::kNone;
  *name = text.substr(start, end - start);
  *length = i + 1;
  return Match::kFull;
}

}  // namespace qp::worker::toolcalls
