#include "tools/account/header_import.h"

#include <vector>

namespace qp::account_tool {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// "Name: value" with an HTTP token as name (a pseudo-header's leading ':' allowed).
bool header_line(std::string_view line) {
  size_t start = !line.empty() && line.front() == ':' ? 1 : 0;
  size_t colon = line.find(':', start);
  if (colon == std::string_view::npos || colon == start) return false;
  for (size_t i = start; i < colon; ++i) {
    if (!token_char(line[i])) return false;
  }
  return true;
}

// "METHOD /path HTTP/x"
bool request_line(std::string_view line, std::string* method, std::string* target) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  if (line.substr(sp2 + 1, 5) != "HTTP/") return false;
  for (size_t i = 0; i < sp1; ++i) {
    if (line[i] < 'A' || line[i] > 'Z') return false;
  }
  *method = std::string(line.substr(0, sp1));
  *target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  return true;
}

// Every ';'-separated part is name=value with a non-empty name without spaces.
bool cookie_pairs(std::string_view s, size_t* count) {
  *count = 0;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(';', pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view part = trim(s.substr(pos, end - pos));
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == std::string_view::npos || eq == 0) return false;
      for (char c : part.substr(0, eq)) {
        if (c == ' ' || c == '\t' || c == ':' || c == '"') return false;
      }
      ++*count;
    }
    pos = end + 1;
  }
  return *count > 0;
}

}  // namespace

Result<Capture> parse_cookie_input(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim(text.substr(pos, nl - pos));
    if (!line.empty()) lines.push_back(line);
    pos = nl + 1;
  }
  if (lines.empty()) return error(Code::kInvalidArgument, "the input is empty");

  Capture c;
  std::string method, target;
  size_t first = 0;
  if (request_line(lines[0], &method, &target)) first = 1;
  bool headers = first == 1;
  for (size_t i = first; i < lines.size() && !headers; ++i) headers = header_line(lines[i]);

  if (!headers) {
    // A bare cookie string, possibly wrapped over several lines.
    std::string joined;
    for (auto l : lines) {
      if (!joined.empty() && joined.back() != ';') joined += ";";
      joined.append(l);
    }
    size_t n = 0;
    if (!cookie_pairs(joined, &n)) {
      return error(Code::kInvalidArgument,
                   "not a Cookie header or cookie string: expected name=value pairs separated by "
                   "';' (or \"Name: value\" header lines)");
    }
    c.format = "cookie string";
    add_header(&c, "cookie", joined);
    return c;
  }

  std::string host, scheme = "https";
  size_t header_count = 0;
  for (size_t i = first; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (!header_line(l)) {
      return error(Code::kInvalidArgument,
                   "line " + std::to_string(i + 1) + " is not a \"Name: value\" header line");
    }
    ++header_count;
    if (l.front() == ':') {
      size_t colon = l.find(':', 1);
      std::string name = ascii_lower(l.substr(1, colon - 1));
      std::string value(trim(l.substr(colon + 1)));
      if (name == "method") method = value;
      if (name == "path") target = value;
      if (name == "authority") host = value;
      if (name == "scheme") scheme = value;
      continue;
    }
    size_t colon = l.find(':');
    if (ascii_lower(l.substr(0, colon)) == "host") host = std::string(trim(l.substr(colon + 1)));
    add_header_line(&c, l);
  }
  c.method = method;
  if (!host.empty() && !target.empty()) c.url = scheme + "://" + host + target;
  c.format = header_count == 1 && !c.cookies.empty() ? "Cookie header" : "request headers";
  return c;
}

}  // namespace qp::account_tool
