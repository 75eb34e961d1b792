#include "worker/http_request.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>

#include "common/log.h"
#include "common/uv/callback.h"
#include "worker/upstream_recorder.h"

namespace qp::worker {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

HttpRequest::HttpRequest(CurlMulti* multi, HttpRequestSpec spec, Listener* listener)
    : multi_(multi), spec_(std::move(spec)), listener_(listener) {}

HttpRequest::~HttpRequest() {
  abort();
  multi_->give_easy(std::move(easy_));  // reset: nothing of this request stays in it
}

Status HttpRequest::set_headers() {
  curl_slist* list = nullptr;
  if (spec_.shared_headers) {
    // curl only reads the list (CURLOPT_HTTPHEADER): nodes of our own that
    // point into the shared lines cost one allocation per request.
    const std::vector<std::string>& lines = *spec_.shared_headers;
    header_nodes_.assign(lines.size(), curl_slist{});
    size_t slot = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string* line = &lines[i];
      if (line->empty()) {
        if (slot == spec_.headers.size()) return error(Code::kInternal, "header slot unfilled");
        line = &spec_.headers[slot++];
      }
      header_nodes_[i].data = const_cast<char*>(line->c_str());  // NOLINT: curl takes char*
      header_nodes_[i].next = i + 1 < lines.size() ? &header_nodes_[i + 1] : nullptr;
    }
    list = header_nodes_.empty() ? nullptr : header_nodes_.data();
  } else {
    for (const auto& h : spec_.headers) {
      curl_slist* next = curl_slist_append(list, h.c_str());
      if (next == nullptr) {
        curl_slist_free_all(list);
        return error(Code::kInternal, "curl_slist_append failed");
      }
      list = next;
    }
    headers_.reset(list);
  }
  curl_easy_setopt(easy_.get(), CURLOPT_HTTPHEADER, list);
  return Status();
}

std::vector<std::string> HttpRequest::header_lines() const {
  if (!spec_.shared_headers) return spec_.headers;
  std::vector<std::string> out;
  out.reserve(spec_.shared_headers->size());
  size_t slot = 0;
  for (const std::string& line : *spec_.shared_headers) {
    if (!line.empty()) {
      out.push_back(line);
    } else if (slot < spec_.headers.size()) {
      out.push_back(spec_.headers[slot++]);
    }
  }
  return out;
}

Status HttpRequest::start() {
  if (started_) return error(Code::kInternal, "HttpRequest started twice");
  started_ = true;
  easy_ = multi_->take_easy();
  if (!easy_) return error(Code::kInternal, "curl_easy_init failed");
  CURL* e = easy_.get();
  if (Status s = set_headers(); !s.ok()) return s;
  curl_easy_setopt(e, CURLOPT_URL, spec_.url.c_str());
  if (!spec_.cookies.empty()) curl_easy_setopt(e, CURLOPT_COOKIE, spec_.cookies.c_str());
  if (!spec_.proxy.empty()) curl_easy_setopt(e, CURLOPT_PROXY, spec_.proxy.c_str());
  if (!spec_.upload.empty()) {
    upload_sent_ = 0;
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);  // PUT
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &HttpRequest::read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, this);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(spec_.upload.size()));
  } else if (spec_.post) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, spec_.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(spec_.body.size()));
  } else {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  }
  if (!spec_.custom_method.empty())
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, spec_.custom_method.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpRequest::write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  // Streams carry small SSE events: a 4 KiB receive buffer instead of curl's
  // 16 KiB default keeps thousands of open streams cheap (docs/benchmarks.md, P4).
  if (spec_.stream) curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  // We ask for identity (the header list says so too); should a server
  // compress anyway, curl decodes it rather than handing us gzip bytes.
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "identity");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec_.connect_timeout_ms));
  if (spec_.total_timeout_ms > 0) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(spec_.total_timeout_ms));
  }
  if (spec_.recorder != nullptr) {
    const char* method = !spec_.custom_method.empty() ? spec_.custom_method.c_str()
                         : !spec_.upload.empty()      ? "PUT"
                         : spec_.post                 ? "POST"
                                                      : "GET";
    record_ = spec_.recorder->begin(
        method, spec_.url, spec_.shared_headers ? header_lines() : spec_.headers, spec_.body);
    if (record_) {
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpRequest::header_cb);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    }
  }
  if (timer_.base()->type == UV_UNKNOWN_HANDLE) {
    if (int r = uv_timer_init(multi_->loop(), timer_.get()); r != 0) {
      return error(Code::kInternal, std::string("uv_timer_init: ") + uv_strerror(r));
    }
    timer_.get()->data = this;
  }
  Status s = multi_->add(e, this);
  if (!s.ok()) {
    record_.reset();
    return s;
  }
  running_ = true;
  started_ms_ = uv_now(multi_->loop());
  if (spec_.first_byte_timeout_ms > 0) arm_timer(spec_.first_byte_timeout_ms);
  return Status();
}

void HttpRequest::abort() {
  if (!running_) return;
  running_ = false;
  multi_->remove(easy_.get());
  if (timer_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(timer_.get());
  record_end("stopped", {});
  release_transfer();
}

void HttpRequest::release_sent_body() {
  if (spec_.body.empty() || !spec_.upload.empty()) return;
  curl_off_t sent = 0;
  if (curl_easy_getinfo(easy_.get(), CURLINFO_SIZE_UPLOAD_T, &sent) != CURLE_OK) return;
  if (sent < static_cast<curl_off_t>(spec_.body.size())) return;
  // CURLOPT_POSTFIELDS still points here; curl reads it no more (a response has
  // come) and curl_easy_reset() clears it when the handle is given back.
  std::string().swap(spec_.body);
}

void HttpRequest::release_transfer() {
  multi_->give_easy(std::move(easy_));  // reset first: curl holds no pointer into what follows
  headers_.reset();
  std::vector<curl_slist>().swap(header_nodes_);
  std::string().swap(spec_.body);
  std::vector<std::string>().swap(spec_.headers);
  spec_.shared_headers.reset();
  std::string().swap(spec_.cookies);
}

void HttpRequest::record_end(const char* outcome, std::string_view error) {
  if (!record_) return;
  long status = 0;
  curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &status);
  uint64_t duration = uv_now(multi_->loop()) - started_ms_;
  spec_.recorder->write(record_->finish(status, duration, outcome, error));
  record_.reset();
}

void HttpRequest::arm_timer(uint64_t ms) {
  uv_timer_start(timer_.get(), uv::method<&HttpRequest::on_timer>, ms, 0);
}

void HttpRequest::on_timer() {
  if (!running_) return;
  TransportFailure kind = TransportFailure::kFirstByteTimeout;
  uint64_t limit = spec_.first_byte_timeout_ms;
  if (got_body_) {
    if (spec_.idle_timeout_ms == 0) return;
    uint64_t idle_ms = uv_now(multi_->loop()) - last_data_ms_;
    if (idle_ms < spec_.idle_timeout_ms) {
      arm_timer(spec_.idle_timeout_ms - idle_ms);
      return;
    }
    kind = TransportFailure::kIdleTimeout;
    limit = spec_.idle_timeout_ms;
  }
  HttpResult r = take_result();
  r.failure = classify_transport(kind, limit, {});
  record_end("failed", r.failure->message);
  abort();                               // releases the transfer
  listener_->on_complete(std::move(r));  // last statement: the listener may retire us
}

size_t HttpRequest::header_cb(char* data, size_t size, size_t n, void* userp) {
  auto* self = static_cast<HttpRequest*>(userp);
  try {
    if (self->record_) self->record_->on_header_line(std::string_view(data, size * n));
  } catch (...) {
    QP_ERROR("upstream.header_exception");  // recording must never fail the transfer
  }
  return size * n;
}

size_t HttpRequest::read_cb(char* data, size_t size, size_t n, void* userp) {
  auto* self = static_cast<HttpRequest*>(userp);
  std::string_view rest = self->spec_.upload.substr(self->upload_sent_);
  size_t len = std::min(rest.size(), size * n);
  std::memcpy(data, rest.data(), len);  // curl's own buffer: the one copy of the upload
  self->upload_sent_ += len;
  return len;
}

size_t HttpRequest::write_cb(char* data, size_t size, size_t n, void* userp) {
  auto* self = static_cast<HttpRequest*>(userp);
  try {
    return self->on_write(std::string_view(data, size * n));
  } catch (const std::exception& e) {
    QP_ERROR("upstream.write_exception").kv("error", e.what());
  } catch (...) {
    QP_ERROR("upstream.write_exception");
  }
  return 0;  // aborts the transfer with CURLE_WRITE_ERROR
}

void HttpRequest::decide_mode() {
  mode_decided_ = true;
  long status = 0;
  char* ct = nullptr;
  curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(easy_.get(), CURLINFO_CONTENT_TYPE, &ct);
  streaming_ =
      spec_.stream && status == 200 && ct != nullptr && starts_with_ci(ct, "text/event-stream");
}

size_t HttpRequest::on_write(std::string_view bytes) {
  if (!mode_decided_) decide_mode();
  last_data_ms_ = uv_now(multi_->loop());
  if (record_) record_->on_body(bytes, last_data_ms_ - started_ms_);
  if (!got_body_) {
    got_body_ = true;
    release_sent_body();
    // From now on the timer measures gaps between chunks.
    if (spec_.idle_timeout_ms > 0) {
      arm_timer(spec_.idle_timeout_ms);
    } else {
      uv_timer_stop(timer_.get());
    }
  }
  if (streaming_) {
    if (listener_->on_stream_data(bytes)) return bytes.size();
    stopped_ = true;
    return 0;
  }
  if (body_.size() + bytes.size() > spec_.max_body_bytes) {
    too_large_ = true;
    return 0;
  }
  body_.append(bytes);
  return bytes.size();
}

HttpResult HttpRequest::take_result() {
  HttpResult r;
  char* ct = nullptr;
  curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(easy_.get(), CURLINFO_CONTENT_TYPE, &ct);
  if (ct != nullptr) r.content_type = ct;
  r.body = std::move(body_);
  body_.clear();
  r.streamed = streaming_;
  return r;
}

void HttpRequest::on_transfer_done(CURLcode result) {
  running_ = false;
  uv_timer_stop(timer_.get());
  if (stopped_) {
    record_end("stopped", {});
    release_transfer();
    return;  // the listener ended it and expects nothing more
  }
  HttpResult r = take_result();
  if (too_large_) {
    r.failure = classify_transport(TransportFailure::kTooLarge, spec_.max_body_bytes, {});
  } else if (result != CURLE_OK) {
    std::string detail = errbuf_[0] != '\0' ? std::string(errbuf_) : curl_easy_strerror(result);
    if (result == CURLE_OPERATION_TIMEDOUT) {
      r.failure = r.status == 0 ? classify_transport(TransportFailure::kConnectTimeout,
                                                     spec_.connect_timeout_ms, detail)
                                : classify_transport(TransportFailure::kIdleTimeout,
                                                     spec_.total_timeout_ms, detail);
    } else if (r.status == 0 && !got_body_) {
      r.failure = classify_transport(TransportFailure::kConnect, 0, detail);
    } else {
      r.failure = classify_transport(TransportFailure::kDropped, 0, detail);
    }
  }
  if (r.failure) {
    record_end("failed", r.failure->message);
  } else {
    record_end("complete", {});
  }
  release_transfer();
  listener_->on_complete(std::move(r));  // last statement
}

}  // namespace qp::worker
