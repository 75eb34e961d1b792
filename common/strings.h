// Small string helpers shared by every process. Header-only, ASCII only.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace qp::strings {

// A hash that lets an unordered container of std::string keys be searched
// with a std::string_view (no temporary string per lookup).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
// std::string -> V, searchable by std::string_view.
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Space, tab, CR or LF.
constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `s` without leading and trailing spaces, tabs, CRs and LFs.
constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// `s` without leading and trailing spaces and tabs.
constexpr std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// The credentials of an Authorization header "<scheme> <token>" whose scheme
// is `scheme` in any case (RFC 9110 11.1), with any number of blanks between
// them; empty when the scheme differs or no token follows.
constexpr std::string_view auth_credentials(std::string_view header, std::string_view scheme) {
  header = trim_blanks(header);
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme) ||
      !is_blank(header[scheme.size()])) {
    return {};
  }
  return trim_blanks(header.substr(scheme.size()));
}

// An HTTP token (RFC 9110 5.6.2: one or more tchar), the syntax of header
// field names and cookie names (RFC 6265 4.1.1).
constexpr bool is_http_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

// Appends `text` as comment lines ("# " + line + "\n" for each line), as the
// files we write (account files, keys files) start.
inline void append_comment_lines(std::string* out, std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    out->append("# ").append(text.substr(pos, nl - pos)).append("\n");
    pos = nl + 1;
  }
}

}  // namespace qp::strings
