#include "common/http/response_head.h"

#include <charconv>
#include <cstring>

#include <http_parser.h>

#include "common/json/writer.h"
#include "common/strings.h"

namespace qp::http {
namespace {

using strings::iequals;

bool has_forbidden_char(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

bool is_framing_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection");
}

bool writable(const Header& h) {
  return !h.name.empty() && !has_forbidden_char(h.name) && !has_forbidden_char(h.value) &&
         !is_framing_header(h.name);
}

void append_header(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

void append_uint(std::string* out, uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
#define QP_HTTP_REASON(num, name, string) \
  case num:                               \
    return #string;
    HTTP_STATUS_MAP(QP_HTTP_REASON)
#undef QP_HTTP_REASON
    default:
      return "Unknown";
  }
}

bool status_allows_body(int status) {
  return !((status >= 100 && status < 200) || status == 204 || status == 304);
}

bool asks_to_close(const Headers& headers) {
  for (const auto& h : headers) {
    if (iequals(h.name, "connection") && iequals(h.value, "close")) return true;
  }
  return false;
}

void append_response_head(std::string* out, const HeadSpec& spec, const Headers& headers,
                          const Headers& defaults) {
  out->append("HTTP/1.1 ");
  int status = (spec.status >= 100 && spec.status <= 999) ? spec.status : 500;
  append_uint(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(reason_phrase(status));
  out->append("\r\n");
  for (const auto& h : headers) {
    if (writable(h)) append_header(out, h.name, h.value);
  }
  for (const auto& d : defaults) {
    if (!writable(d)) continue;
    bool overridden = false;
    for (const auto& h : headers) {
      if (iequals(h.name, d.name)) {
        overridden = true;
        break;
      }
    }
    if (!overridden) append_header(out, d.name, d.value);
  }
  switch (spec.framing) {
    case Framing::kContentLength:
      out->append("Content-Length: ");
      append_uint(out, spec.content_length);
      out->append("\r\n");
      break;
    case Framing::kChunked:
      out->append("Transfer-Encoding: chunked\r\n");
      break;
    case Framing::kNone:
      break;
  }
  switch (spec.connection) {
    case ConnectionHeader::kNone:
      break;
    case ConnectionHeader::kKeepAlive:
      out->append("Connection: keep-alive\r\n");
      break;
    case ConnectionHeader::kClose:
      out->append("Connection: close\r\n");
      break;
  }
  out->append("\r\n");
}

size_t format_chunk_size_line(size_t size, char* out) {
  auto res = std::to_chars(out, out + kChunkSizeLineMax - 2, size, 16);
  char* p = res.ptr;
  *p++ = '\r';
  *p++ = '\n';
  return static_cast<size_t>(p - out);
}

std::string default_error_body(int status, std::string_view message) {
  std::string out;
  out.reserve(64 + message.size());
  json::Writer w(&out);
  w.begin_object().key("error").begin_object();
  w.field("message", message);
  // 505 (an HTTP version we do not speak) is the client's error.
  w.field("type", status >= 500 && status != 505 ? "server_error" : "invalid_request_error");
  w.end_object().end_object();
  return out;
}

}  // namespace qp::http
