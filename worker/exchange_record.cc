#include "worker/exchange_record.h"

#include "common/json/writer.h"
#include "common/strings.h"

namespace qp::worker::record {

using strings::ascii_lower;
using strings::iequals;
using strings::trim_blanks;
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace

std::string_view url_path(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return url;
  size_t slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) return "/";
  return url.substr(slash);
}

ExchangeRecord::ExchangeRecord(Redactor* redactor, std::string_view method, std::string_view url,
                               const std::vector<std::string>& headers, std::string_view body,
                               int64_t start_unix_ms, size_t max_bytes)
    : redactor_(redactor), start_unix_ms_(start_unix_ms), max_bytes_(max_bytes) {
  json::Writer w(&head_);
  w.key("method").value(method);
  w.key("path").value(redactor_->text(url_path(url)));
  w.key("request").begin_object();
  w.key("headers").begin_object();
  for (const auto& h : headers) {
    std::string_view line = h;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim_blanks(line.substr(0, colon));
    std::string_view value = trim_blanks(line.substr(colon + 1));
    if (value.empty() || !keep_request_header(name)) continue;
    w.key(lower(name)).value(redactor_->text(value));
  }
  w.end_object();
  if (!body.empty()) {
    std::string redacted;
    redactor_->append_body(body, &redacted);
    w.key("body").raw(redacted);
  }
  w.end_object();
}

void ExchangeRecord::on_header_line(std::string_view line) {
  if (line.starts_with("HTTP/")) {
    // A new response head (after 100 Continue or a proxy's CONNECT answer).
    headers_.clear();
    size_t sp = line.find(' ');
    status_ = 0;
    for (size_t i = sp == std::string_view::npos ? line.size() : sp + 1;
         i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
      status_ = status_ * 10 + (line[i] - '0');
    }
    return;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string_view name = trim_blanks(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  value = trim_blanks(value);
  if (!keep_response_header(name)) return;
  headers_.emplace_back(lower(name), redactor_->text(value));
}

void ExchangeRecord::on_body(std::string_view bytes, uint64_t t_ms) {
  if (!body_started_) {
    body_started_ = true;
    for (const auto& [name, value] : headers_) {
      if (name == "content-type" && lower(value).starts_with("text/event-stream")) sse_ = true;
    }
  }
  last_t_ms_ = t_ms;
  if (truncated_) return;
  if (kept_ + bytes.size() > max_bytes_) {
    truncated_ = true;
    return;
  }
  kept_ += bytes.size();
  if (!sse_) {
    body_.append(bytes);
    return;
  }
  parser_.feed(bytes);
  std::string_view data;
  while (parser_.next(&data)) add_event(data, t_ms);
  if (!parser_.status().ok()) truncated_ = true;
}

void ExchangeRecord::add_event(std::string_view data, uint64_t t_ms) {
  if (!events_.empty()) events_.push_back(',');
  json::Writer w(&events_);
  w.begin_object();
  w.key("t_ms").value(t_ms);
  std::string value;
  redactor_->append_body(data, &value);
  w.key("data").raw(value);
  w.end_object();
}

std::string ExchangeRecord::finish(long status, uint64_t duration_ms, std::string_view outcome,
                                   std::string_view error) {
  if (sse_ && !truncated_) {
    parser_.finish();
    std::string_view data;
    while (parser_.next(&data)) add_event(data, last_t_ms_);
  }
  if (status != 0) status_ = status;
  std::string line;
  line.reserve(head_.size() + events_.size() + body_.size() + 256);
  json::Writer w(&line);
  w.begin_object();
  w.key("v").value(1);
  w.key("t_unix_ms").value(start_unix_ms_);
  line.push_back(',');
  line.append(head_);
  w.key("response").begin_object();
  w.key("status").value(static_cast<int64_t>(status_));
  w.key("headers").begin_object();
  for (const auto& [name, value] : headers_) w.key(name).value(value);
  w.end_object();
  if (sse_) {
    w.key("events").begin_array();
    line.append(events_);
    w.end_array();
  } else if (!body_.empty()) {
    std::string redacted;
    redactor_->append_body(body_, &redacted);
    w.key("body").raw(redacted);
  }
  w.end_object();
  w.key("duration_ms").value(duration_ms);
  w.key("outcome").value(outcome);
  if (!error.empty()) w.key("error").value(redactor_->text(error));
  w.key("truncated").value(truncated_);
  w.end_object();
  redactor_->scrub(&line);
  line.push_back('\n');
  return line;
}

}  // namespace qp::worker::record
