#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {
namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t'; }
bool is_newline(unsigned char c) { return c == '\n' || c == '\r'; }
// Word bytes: ASCII letters, digits, '_' and every non-ASCII byte (so a run
// of them always ends on a UTF-8 character boundary).
bool is_word(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

}  // namespace

void tokenize(std::string_view text, std::vector<uint32_t>* ends) {
  size_t n = text.size();
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < n) {
    if (is_newline(at(i))) {  // only at the very start: newlines elsewhere attach backwards
      while (i < n && is_newline(at(i))) ++i;
      ends->push_back(static_cast<uint32_t>(i));
      continue;
    }
    while (i < n && is_space(at(i))) ++i;
    if (i < n && is_word(at(i))) {
      while (i < n && is_word(at(i))) ++i;
    } else if (i < n && !is_newline(at(i))) {
      // A run of identical punctuation ("**", "---") or a single other mark.
      unsigned char p = at(i);
      while (i < n && at(i) == p) ++i;
    }
    while (i < n && is_newline(at(i))) ++i;
    ends->push_back(static_cast<uint32_t>(i));
  }
}

std::vector<std::string> tokenize_to_strings(std::string_view text) {
  std::vector<uint32_t> ends;
  tokenize(text, &ends);
  std::vector<std::string> out;
  out.reserve(ends.size());
  uint32_t begin = 0;
  for (uint32_t e : ends) {
    out.emplace_back(text.substr(begin, e - begin));
    begin = e;
  }
  return out;
}

size_t count_tokens(std::string_view text) {
  std::vector<uint32_t> ends;
  tokenize(text, &ends);
  return ends.size();
}

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t n = max_bytes;
  // Back off over continuation bytes (10xxxxxx) to the start of a character.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

}  // namespace qp::mock
