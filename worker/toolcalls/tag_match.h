// Small matchers the streaming parsers use at a '<' in the answer text: is
// this the start of a tool-call tag, not one, or too short to tell yet? A
// "partial" answer makes the parser hold the bytes back until more text
// arrives; every matcher gives up after a bounded number of bytes, which is
// what bounds the hold-back. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qp::worker::toolcalls {

enum class Match : uint8_t { kNone, kPartial, kFull };

// `text` (starting at '<') against the literal `tag`.
Match match_literal(std::string_view text, std::string_view tag);

// Longest tag name the matchers wait for (tool names are at most 64
// characters, plus the upstream prefix).
inline constexpr size_t kMaxTagName = 96;

bool tag_name_char(char c);

// A set of tag names (`<NAME>` opens a tool call).
class TagNames {
 public:
  TagNames() = default;
  explicit TagNames(std::vector<std::string> names);
  bool contains(std::string_view name) const;
  bool is_prefix(std::string_view partial) const;  // some name starts with `partial`
  bool empty() const { return names_.empty(); }

 private:
  std::vector<std::string> names_;  // sorted
};

// `text` (starting at '<') against `<NAME>` for NAME in `names`. On kFull,
// *name is the name and *length the tag's length.
Match match_name_tag(std::string_view text, const TagNames& names, std::string_view* name,
                     size_t* length);

// `text` (starting at '<') against `<function=NAME>` for any NAME (also
// quoted). On kFull, *name is NAME and *length the tag's length.
Match match_function_tag(std::string_view text, std::string_view* name, size_t* length);

}  // namespace qp::worker::toolcalls
