#include "common/http/multipart.h"

#include <string>

#include "common/strings.h"

namespace qp::http::multipart {
namespace {

using strings::iequals;
using strings::is_blank;
using strings::is_http_token;
using strings::trim_blanks;

constexpr std::string_view kCrlf = "\r\n";

Status bad(std::string message) { return error(Code::kInvalidArgument, std::move(message)); }

// RFC 2046 bcharsnospace, plus space (not last).
bool bchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

bool tchar(char c) {
  return c > 0x20 && c < 0x7f &&
         std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
}

// One `; key=value` parameter list after the type of a header value.
// Calls on(key, value) for each; false (with *why) on a syntax error.
template <typename F>
bool each_param(std::string_view s, std::string* why, F on) {
  while (true) {
    s = trim_blanks(s);
    if (s.empty()) return true;
    if (s.front() != ';') {
      *why = "expected ';' between parameters";
      return false;
    }
    s = trim_blanks(s.substr(1));
    if (s.empty()) return true;  // a trailing ';' is harmless
    size_t eq = s.find('=');
    if (eq == std::string_view::npos) {
      *why = "a parameter has no '='";
      return false;
    }
    std::string_view key = trim_blanks(s.substr(0, eq));
    if (!is_http_token(key)) {
      *why = "a parameter name is not a token";
      return false;
    }
    s = trim_blanks(s.substr(eq + 1));
    std::string_view value;
    if (!s.empty() && s.front() == '"') {
      size_t i = 1;
      while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
      if (i >= s.size()) {
        *why = "a quoted parameter value is not closed";
        return false;
      }
      value = s.substr(1, i - 1);
      s = s.substr(i + 1);
    } else {
      size_t i = 0;
      while (i < s.size() && tchar(s[i])) ++i;
      value = s.substr(0, i);
      if (value.empty()) {
        *why = "a parameter value is empty or not a token";
        return false;
      }
      s = s.substr(i);
    }
    if (!on(key, value, why)) return false;
  }
}

std::string part_label(size_t index) { return "part " + std::to_string(index + 1); }

// Parses one part's header block (without its final empty line).
Status parse_headers(std::string_view block, size_t index, Part* part) {
  bool disposition = false;
  bool type = false;
  while (!block.empty()) {
    size_t eol = block.find(kCrlf);
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    if (line.empty() || is_blank(line.front()))
      return bad(part_label(index) + ": folded or empty header line");
    for (char c : line) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return bad(part_label(index) + ": control byte in a header");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_http_token(line.substr(0, colon)))
      return bad(part_label(index) + ": header line is not 'Name: value'");
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim_blanks(line.substr(colon + 1));
    if (iequals(name, "content-disposition")) {
      if (disposition) return bad(part_label(index) + ": Content-Disposition given twice");
      disposition = true;
      size_t semi = value.find(';');
      if (!iequals(trim_blanks(value.substr(0, semi)), "form-data"))
        return bad(part_label(index) + ": Content-Disposition is not form-data");
      bool has_name = false;
      std::string why;
      bool ok = each_param(semi == std::string_view::npos ? std::string_view() : value.substr(semi),
                           &why, [&](std::string_view k, std::string_view v, std::string* w) {
                             if (iequals(k, "name")) {
                               if (has_name) return (*w = "name given twice", false);
                               has_name = true;
                               part->name = v;
                             } else if (iequals(k, "filename")) {
                               if (part->has_filename) return (*w = "filename given twice", false);
                               part->has_filename = true;
                               part->filename = v;
                             }
                             return true;
                           });
      if (!ok) return bad(part_label(index) + ": Content-Disposition: " + why);
      if (!has_name) return bad(part_label(index) + ": Content-Disposition has no name");
    } else if (iequals(name, "content-type")) {
      if (type) return bad(part_label(index) + ": Content-Type given twice");
      type = true;
      part->content_type = value;
    }  // other headers (Content-Transfer-Encoding, …) are ignored
  }
  if (!disposition) return bad(part_label(index) + ": no Content-Disposition header");
  return Status();
}

}  // namespace

Result<std::string_view> boundary_of(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (!iequals(trim_blanks(content_type.substr(0, semi)), "multipart/form-data"))
    return bad("the Content-Type is not multipart/form-data");
  std::string_view boundary;
  bool found = false;
  std::string why;
  bool ok =
      each_param(semi == std::string_view::npos ? std::string_view() : content_type.substr(semi),
                 &why, [&](std::string_view k, std::string_view v, std::string* w) {
                   if (!iequals(k, "boundary")) return true;
                   if (found) return (*w = "boundary given twice", false);
                   found = true;
                   boundary = v;
                   return true;
                 });
  if (!ok) return bad("multipart/form-data Content-Type: " + why);
  if (!found) return bad("multipart/form-data Content-Type has no boundary");
  if (boundary.empty() || boundary.size() > kMaxBoundary || boundary.back() == ' ')
    return bad("the multipart boundary must be 1 to 70 characters, not ending in a space");
  for (char c : boundary) {
    if (!bchar(c)) return bad("the multipart boundary has a character RFC 2046 does not allow");
  }
  return boundary;
}

Status parse(std::string_view body, std::string_view boundary, std::vector<Part>* parts,
             const Limits& limits) {
  parts->clear();
  if (boundary.empty() || boundary.size() > kMaxBoundary) return bad("bad multipart boundary");
  Status s = [&]() -> Status {
    // `pos` is just past a "--boundary" each round.
    if (body.size() < boundary.size() + 2 || body.substr(0, 2) != "--" ||
        body.substr(2, boundary.size()) != boundary)
      return bad("the multipart body does not start with its boundary");
    size_t pos = 2 + boundary.size();
    while (true) {
      if (body.substr(pos, 2) == "--") {  // close delimiter
        pos += 2;
        while (pos < body.size() && is_blank(body[pos])) ++pos;
        std::string_view rest = body.substr(pos);
        if (!rest.empty() && rest != kCrlf) return bad("data after the multipart close delimiter");
        if (parts->empty()) return bad("the multipart body has no parts");
        return Status();
      }
      while (pos < body.size() && is_blank(body[pos])) ++pos;
      if (pos >= body.size()) return bad("the multipart body ends after a boundary");
      if (body.substr(pos, 2) != kCrlf) return bad("junk after a multipart boundary");
      pos += 2;
      if (parts->size() >= limits.max_parts)
        return bad("more than " + std::to_string(limits.max_parts) + " multipart parts");
      const size_t index = parts->size();
      Part part;
      size_t content;
      if (body.substr(pos, 2) == kCrlf) {  // no headers
        content = pos + 2;
      } else {
        // The header block ends at the first empty line, within the bound.
        std::string_view window = body.substr(pos, limits.max_header_bytes + 4);
        size_t end = window.find("\r\n\r\n");
        if (end == std::string_view::npos || end + 4 > limits.max_header_bytes) {
          if (end == std::string_view::npos && window.size() < limits.max_header_bytes + 4)
            return bad(part_label(index) + ": the body ends inside the part's headers");
          return bad(part_label(index) + ": headers longer than " +
                     std::to_string(limits.max_header_bytes) + " bytes");
        }
        if (Status h = parse_headers(body.substr(pos, end), index, &part); !h.ok()) return h;
        content = pos + end + 4;
      }
      if (content == pos + 2) {
        if (Status h = parse_headers({}, index, &part); !h.ok()) return h;
      }
      // The content runs to the next CRLF "--" boundary.
      size_t next = content;
      while (true) {
        next = body.find("\r\n--", next);
        if (next == std::string_view::npos)
          return bad(part_label(index) + ": no multipart delimiter after it (truncated body?)");
        if (body.substr(next + 4, boundary.size()) == boundary) break;
        next += 2;
      }
      part.body = body.substr(content, next - content);
      parts->push_back(part);
      pos = next + 4 + boundary.size();
    }
  }();
  if (!s.ok()) parts->clear();
  return s;
}

}  // namespace qp::http::multipart
