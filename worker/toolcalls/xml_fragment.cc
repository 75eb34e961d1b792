#include "worker/toolcalls/xml_fragment.h"

namespace qp::worker::toolcalls {
namespace {

constexpr size_t kMaxElements = 4096;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

// Parses `<name attrs…>` or `<name …/>` at text[p]. Sets *end past '>'.
bool parse_open_tag(std::string_view text, size_t p, XmlElement* e, bool* self_closing,
                    size_t* end) {
  size_t i = p + 1;
  while (i < text.size() && name_char(text[i])) ++i;
  if (i == p + 1) return false;
  e->name = text.substr(p + 1, i - p - 1);
  while (true) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) return false;
    if (text[i] == '>') {
      *self_closing = false;
      *end = i + 1;
      return true;
    }
    if (text[i] == '/' && i + 1 < text.size() && text[i + 1] == '>') {
      *self_closing = true;
      *end = i + 2;
      return true;
    }
    size_t a = i;
    while (i < text.size() && name_char(text[i])) ++i;
    if (i == a) return false;
    std::string_view aname = text.substr(a, i - a);
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size() || text[i] != '=') return false;
    ++i;
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) return false;
    char q = text[i++];
    size_t v = i;
    while (i < text.size() && text[i] != q) ++i;
    if (i >= text.size()) return false;
    e->attributes.emplace_back(aname, text.substr(v, i - v));
    ++i;
  }
}

// Finds the `</name>` that closes an element opened before `from`, counting
// nested elements of the same name.
size_t find_close(std::string_view text, size_t from, std::string_view name, size_t* close_len) {
  int depth = 1;
  size_t i = from;
  while (true) {
    size_t p = text.find('<', i);
    if (p == std::string_view::npos) return p;
    std::string_view rest = text.substr(p + 1);
    if (!rest.empty() && rest[0] == '/' && rest.substr(1, name.size()) == name &&
        rest.size() > name.size() + 1 && rest[name.size() + 1] == '>') {
      if (--depth == 0) {
        *close_len = name.size() + 3;
        return p;
      }
    } else if (rest.substr(0, name.size()) == name && rest.size() > name.size() &&
               (rest[name.size()] == '>' || is_space(rest[name.size()]))) {
      ++depth;
    }
    i = p + 1;
  }
}

}  // namespace

bool parse_xml_elements(std::string_view text, std::vector<XmlElement>* out) {
  size_t i = 0;
  while (true) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) return !out->empty();
    if (text[i] != '<' || out->size() >= kMaxElements) return false;
    XmlElement e;
    bool self_closing = false;
    size_t open_end = 0;
    if (!parse_open_tag(text, i, &e, &self_closing, &open_end)) return false;
    if (self_closing) {
      out->push_back(e);
      i = open_end;
      continue;
    }
    size_t close_len = 0;
    size_t close = find_close(text, open_end, e.name, &close_len);
    if (close == std::string_view::npos) return false;
    e.inner = text.substr(open_end, close - open_end);
    out->push_back(e);
    i = close + close_len;
  }
}

}  // namespace qp::worker::toolcalls
