#include "tools/account/capture.h"

namespace qp::account_tool {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

void join_cookie(std::string* into, std::string_view more) {
  more = trim(more);
  while (!more.empty() && more.back() == ';') more = trim(more.substr(0, more.size() - 1));
  if (more.empty()) return;
  if (!into->empty()) into->append("; ");
  into->append(more);
}

}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void add_header(Capture* c, std::string_view name_in, std::string_view value) {
  std::string name = ascii_lower(trim(name_in));
  value = trim(value);
  if (name == "cookie") {
    join_cookie(&c->cookies, value);
  } else if (name == "authorization") {
    if (value.size() > 7 && ascii_lower(value.substr(0, 7)) == "bearer ") {
      c->bearer = std::string(trim(value.substr(7)));
    }
  } else if (name == "bx-umidtoken") {
    c->bx_umidtoken = std::string(value);
  } else if (name == "bx-ua") {
    c->bx_ua = std::string(value);
  } else if (name == "bx-v") {
    c->bx_v = std::string(value);
  } else if (name == "user-agent") {
    c->user_agent = std::string(value);
  }
}

bool add_header_line(Capture* c, std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || trim(line.substr(0, colon)).empty()) return false;
  add_header(c, line.substr(0, colon), line.substr(colon + 1));
  return true;
}

std::string url_host(std::string_view url) {
  std::string lower = ascii_lower(url.substr(0, 8));
  size_t start;
  if (lower.rfind("https://", 0) == 0) {
    start = 8;
  } else if (lower.rfind("http://", 0) == 0) {
    start = 7;
  } else {
    return {};
  }
  size_t end = url.find_first_of("/?#", start);
  std::string_view auth = url.substr(start, end == std::string_view::npos ? end : end - start);
  size_t at = auth.rfind('@');
  if (at != std::string_view::npos) auth = auth.substr(at + 1);
  size_t colon = auth.rfind(':');
  if (colon != std::string_view::npos && auth.find(']') == std::string_view::npos) {
    auth = auth.substr(0, colon);
  }
  return ascii_lower(auth);
}

std::string url_path(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "/";
  size_t start = url.find('/', scheme + 3);
  if (start == std::string_view::npos) return "/";
  size_t end = url.find_first_of("?#", start);
  return std::string(url.substr(start, end == std::string_view::npos ? end : end - start));
}

}  // namespace qp::account_tool
