#include "common/http/request_parser.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "common/strings.h"

namespace qp::http {
namespace {

using strings::iequals;

// Per-header overhead counted against max_header_bytes (": " and CRLF), so a
// flood of empty headers is bounded too.
constexpr size_t kHeaderLineOverhead = 4;
constexpr uint64_t kMaxReserve = 256 * 1024;

RequestParser* self(http_parser* p) { return static_cast<RequestParser*>(p->data); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void trim_trailing_space(std::string* s) {
  size_t n = s->size();
  while (n > 0 && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t')) --n;
  s->resize(n);
}

// http-parser's own limit is a process-wide setting (80 KiB by default). Raise
// it (never lower it) so that our per-server limit is the one that applies.
void raise_library_header_limit(size_t max_header_bytes) {
  static std::mutex mu;
  static size_t current = HTTP_MAX_HEADER_SIZE;
  // The library also counts the CRLFs and separators that we do not.
  size_t wanted = max_header_bytes + max_header_bytes / 4 + 1024;
  if (wanted > UINT32_MAX) wanted = UINT32_MAX;
  std::lock_guard<std::mutex> lock(mu);
  if (wanted > current) {
    current = wanted;
    http_parser_set_max_header_size(static_cast<uint32_t>(wanted));
  }
}

void split_target(Request* req, bool is_connect) {
  std::string_view t = req->target;
  if (is_connect || (!t.empty() && t[0] != '/' && t != "*")) {
    // Absolute form ("http://host/p?q") or authority form (CONNECT host:443).
    http_parser_url u{};
    http_parser_url_init(&u);
    if (http_parser_parse_url(t.data(), t.size(), is_connect ? 1 : 0, &u) == 0) {
      if ((u.field_set & (1U << UF_PATH)) != 0) {
        req->path.assign(t.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len));
      }
      if ((u.field_set & (1U << UF_QUERY)) != 0) {
        req->query.assign(t.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len));
      }
    }
    return;
  }
  t = t.substr(0, t.find('#'));
  size_t q = t.find('?');
  req->path.assign(t.substr(0, q));
  if (q != std::string_view::npos) req->query.assign(t.substr(q + 1));
}

}  // namespace

const http_parser_settings RequestParser::kSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = &RequestParser::on_message_begin;
  s.on_url = &RequestParser::on_url;
  s.on_header_field = &RequestParser::on_header_field;
  s.on_header_value = &RequestParser::on_header_value;
  s.on_headers_complete = &RequestParser::on_headers_complete;
  s.on_body = &RequestParser::on_body;
  s.on_chunk_header = &RequestParser::on_chunk_header;
  s.on_message_complete = &RequestParser::on_message_complete;
  return s;
}();

RequestParser::RequestParser(size_t max_header_bytes, size_t max_body_bytes)
    : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {
  if (max_header_bytes_ >= HTTP_MAX_HEADER_SIZE) raise_library_header_limit(max_header_bytes_);
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

RequestParser::Step RequestParser::feed(std::string_view data) {
  if (state_ == State::kFinished) return {data.size(), Event::kNeedMore};
  // A zero length means EOF to http-parser; the connection handles EOF itself.
  if (data.empty()) return {0, Event::kNeedMore};
  size_t n = http_parser_execute(&parser_, &kSettings, data.data(), data.size());
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED) {  // paused by on_message_complete: one request is done
    http_parser_pause(&parser_, 0);
    return {n, Event::kRequest};
  }
  if (err != HPE_OK) {
    if (error_status_ == 0) {
      if (err == HPE_HEADER_OVERFLOW) {
        error_status_ = 431;
        error_message_ = "request headers too large";
      } else {
        error_status_ = 400;
        error_message_ = "malformed HTTP request: ";
        error_message_ += http_errno_description(err);
      }
    }
    state_ = State::kFinished;
    req_ = Request{};
    release_body_reservation();
    return {data.size(), Event::kError};
  }
  return {n, Event::kNeedMore};
}

Request RequestParser::take_request() {
  state_ = last_request_ ? State::kFinished : State::kIdle;
  // The caller holds body.size() bytes from now on; they equal the
  // reservation (declared length, or the sum of the chunk sizes).
  if (budget_ != nullptr && reserved_ != req_.body.size()) {
    budget_->release(reserved_);
    budget_->force_reserve(req_.body.size());
  }
  reserved_ = 0;
  return std::move(req_);
}

void RequestParser::release_body_reservation() {
  if (budget_ != nullptr) budget_->release(reserved_);
  reserved_ = 0;
}

bool RequestParser::reserve_body(uint64_t n) {
  if (budget_ == nullptr || n == 0) return true;
  if (n > SIZE_MAX || !budget_->try_reserve(static_cast<size_t>(n))) {
    fail(503, "the server is busy receiving other request bodies; please retry");
    return false;
  }
  reserved_ += static_cast<size_t>(n);
  return true;
}

bool RequestParser::count_header_bytes(size_t n) {
  header_bytes_ += n;
  if (header_bytes_ > max_header_bytes_) {
    fail(431, "request headers too large");
    return false;
  }
  return true;
}

int RequestParser::fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return -1;  // any value but 0/1/2 is an error, even from on_headers_complete
}

int RequestParser::on_message_begin(http_parser* p) {
  auto* s = self(p);
  s->req_ = Request{};
  s->state_ = State::kHeaders;
  s->release_body_reservation();  // nothing held between requests; defensive
  s->declared_length_ = kUnknownLength;
  s->header_bytes_ = 0;
  s->in_value_ = false;
  s->expect_continue_ = false;
  s->body_started_ = false;
  s->continue_sent_ = false;
  s->last_request_ = false;
  return 0;
}

int RequestParser::on_url(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->count_header_bytes(len)) return -1;
  s->req_.target.append(at, len);
  return 0;
}

int RequestParser::on_header_field(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->count_header_bytes(len)) return -1;
  if (s->state_ == State::kBody) return 0;  // chunked trailer: counted, then ignored
  auto& headers = s->req_.headers;
  if (s->in_value_ || headers.empty()) {
    if (!s->count_header_bytes(kHeaderLineOverhead)) return -1;
    headers.emplace_back();
    s->in_value_ = false;
  }
  std::string& name = headers.back().name;
  name.reserve(name.size() + len);
  for (size_t i = 0; i < len; ++i) {
    // http-parser 2.9 lets blanks into field names ("Content-Length : 5");
    // RFC 9112 5.1 says to reject them.
    if (at[i] == ' ' || at[i] == '\t')
      return s->fail(400, "malformed HTTP request: blank in header name");
    name.push_back(lower(at[i]));
  }
  return 0;
}

int RequestParser::on_header_value(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->count_header_bytes(len)) return -1;
  if (s->state_ == State::kBody) return 0;
  // http-parser reports an empty value with len == 0, so in_value_ flips even then.
  if (s->req_.headers.empty()) s->req_.headers.emplace_back();
  s->req_.headers.back().value.append(at, len);
  s->in_value_ = true;
  return 0;
}

void RequestParser::finish_headers() {
  for (auto& h : req_.headers) trim_trailing_space(&h.value);
  req_.method = http_method_str(static_cast<http_method>(parser_.method));
  req_.http_major = parser_.http_major;
  req_.http_minor = parser_.http_minor;
  split_target(&req_, parser_.method == HTTP_CONNECT);
}

int RequestParser::on_headers_complete(http_parser* p) {
  auto* s = self(p);
  s->finish_headers();
  if (p->http_major != 1) return s->fail(505, "HTTP version not supported");
  // An Upgrade/CONNECT request hands the connection to another protocol, which
  // we do not speak: answer it and close.
  s->req_.keep_alive = http_should_keep_alive(p) != 0 && p->upgrade == 0;
  s->last_request_ = !s->req_.keep_alive;
  const bool chunked = (p->flags & F_CHUNKED) != 0;
  if (!chunked && p->content_length != ULLONG_MAX) {
    if (p->content_length > s->max_body_bytes_) return s->fail(413, "request body too large");
    s->declared_length_ = p->content_length;
    if (!s->reserve_body(p->content_length)) return -1;
    // Reserve what was declared, but not so much that idle clients declaring
    // big bodies can pin memory; larger bodies grow as they arrive.
    s->req_.body.reserve(static_cast<size_t>(std::min<uint64_t>(p->content_length, kMaxReserve)));
  }
  if (const std::string* expect = s->req_.header("expect")) {
    s->expect_continue_ = iequals(*expect, "100-continue");
  }
  s->state_ = State::kBody;
  return 0;
}

int RequestParser::on_body(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  s->body_started_ = true;
  if (len > s->max_body_bytes_ - s->req_.body.size()) {
    return s->fail(413, "request body too large");
  }
  s->req_.body.append(at, len);
  return 0;
}

int RequestParser::on_chunk_header(http_parser* p) {
  auto* s = self(p);
  s->body_started_ = true;
  // p->content_length is the announced chunk size: refuse before buffering it.
  if (p->content_length > s->max_body_bytes_ - s->req_.body.size()) {
    return s->fail(413, "request body too large");
  }
  if (!s->reserve_body(p->content_length)) return -1;
  return 0;
}

int RequestParser::on_message_complete(http_parser* p) {
  auto* s = self(p);
  s->state_ = State::kComplete;
  http_parser_pause(p, 1);  // feed() returns right after this request
  return 0;
}

}  // namespace qp::http
