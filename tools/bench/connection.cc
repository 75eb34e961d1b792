#include "tools/bench/connection.h"

#include <ctime>

namespace qp::bench {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;  // non-SSE bodies: enough to classify them

uv_stream_t* as_stream(uv_tcp_t* t) { return reinterpret_cast<uv_stream_t*>(t); }  // NOLINT
uv_handle_t* as_handle(uv_tcp_t* t) { return reinterpret_cast<uv_handle_t*>(t); }  // NOLINT

std::string_view excerpt(std::string_view body) { return body.substr(0, 200); }

}  // namespace

const http_parser_settings Connection::kSettings = [] {
  http_parser_settings s{};
  s.on_message_begin = &Connection::on_message_begin_cb;
  s.on_headers_complete = &Connection::on_headers_complete_cb;
  s.on_body = &Connection::on_body_cb;
  s.on_message_complete = &Connection::on_message_complete_cb;
  return s;
}();

Connection::Connection(uv_loop_t* loop, const ConnectionShared* shared, ConnectionOwner* owner,
                       size_t id)
    : loop_(loop), shared_(shared), owner_(owner), id_(id) {
  body_.reserve(4096);
}

void Connection::connect() {
  if (state_ != State::kClosed) return;
  tcp_ = uv_tcp_t{};
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  connect_req_.data = this;
  connected_ = false;
  state_ = State::kConnecting;
  int r = uv_tcp_connect(&connect_req_, &tcp_,
                         reinterpret_cast<const sockaddr*>(&shared_->addr),  // NOLINT
                         &Connection::on_connect_cb);
  if (r < 0) close();
}

void Connection::on_connect_cb(uv_connect_t* req, int status) {
  auto* self = static_cast<Connection*>(req->data);
  if (status == UV_ECANCELED || self->state_ != State::kConnecting) return;
  if (status < 0) {
    self->close();
    return;
  }
  self->connected_ = true;
  uv_tcp_nodelay(&self->tcp_, 1);
  http_parser_init(&self->parser_, HTTP_RESPONSE);
  self->parser_.data = self;
  uv_read_start(as_stream(&self->tcp_), &Connection::on_alloc_cb, &Connection::on_read_cb);
  if (self->shared_->api == Api::kQwen && self->shared_->qwen_chat == QwenChat::kPool &&
      self->pool_chat_id_.empty()) {
    self->state_ = State::kSetup;
    self->timing_ = RequestTiming{};
    self->send_new_chat(Phase::kPoolChat);
    return;
  }
  self->state_ = State::kReady;
  self->owner_->on_ready(self);
}

void Connection::start_request(uint64_t intended_ns, bool measured) {
  if (state_ != State::kReady) return;
  state_ = State::kBusy;
  timing_ = RequestTiming{};
  timing_.intended_ns = intended_ns;
  timing_.measured = measured;
  last_content_ns_ = 0;
  seq_ = owner_->next_seq();
  if (shared_->api == Api::kOpenAi) {
    phase_ = Phase::kOpenAi;
    phase_sent_ns_ = timing_.sent_ns = uv_hrtime();
    write_view_ = shared_->openai_bytes;  // shared, outlives every write
    write_out();
  } else if (shared_->qwen_chat == QwenChat::kPerRequest) {
    timing_.sent_ns = uv_hrtime();
    send_new_chat(Phase::kNewChat);
  } else {
    timing_.sent_ns = uv_hrtime();
    send_completion();
  }
}

void Connection::send_new_chat(Phase phase) {
  phase_ = phase;
  std::string& buf = out_[out_index_ ^= 1];
  qwen_new_chat_request(shared_->qwen, static_cast<int64_t>(std::time(nullptr)) * 1000,
                        owner_->next_seq(), &buf);
  write_view_ = buf;
  phase_sent_ns_ = uv_hrtime();
  write_out();
}

void Connection::send_completion() {
  phase_ = Phase::kCompletion;
  std::string_view chat =
      shared_->qwen_chat == QwenChat::kPool ? std::string_view(pool_chat_id_) : new_chat_id(body_);
  std::string& buf = out_[out_index_ ^= 1];
  qwen_completion_request(shared_->qwen, chat, static_cast<int64_t>(std::time(nullptr)), seq_,
                          &scratch_, &buf);
  write_view_ = buf;
  phase_sent_ns_ = uv_hrtime();
  write_out();
}

void Connection::write_out() {
  if (writing_) {  // the previous write has not called back yet: send after it
    write_pending_ = true;
    return;
  }
  uv_buf_t b =
      uv_buf_init(const_cast<char*>(write_view_.data()),  // NOLINT: libuv never writes to it
                  static_cast<unsigned>(write_view_.size()));
  write_req_.data = this;
  int r = uv_write(&write_req_, as_stream(&tcp_), &b, 1, &Connection::on_write_cb);
  if (r < 0) {
    fail(ErrorKind::kReset, 0, uv_strerror(r));
    return;
  }
  writing_ = true;
}

void Connection::on_write_cb(uv_write_t* req, int status) {
  auto* self = static_cast<Connection*>(req->data);
  self->writing_ = false;
  if (self->state_ == State::kClosing || self->state_ == State::kClosed) return;
  if (status < 0) {
    if (self->state_ == State::kBusy) {
      self->fail(ErrorKind::kReset, 0, uv_strerror(status));
    } else {
      self->close();
    }
    return;
  }
  if (self->write_pending_) {
    self->write_pending_ = false;
    self->write_out();
  }
}

void Connection::on_alloc_cb(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(self->shared_->read_buffer,
                     static_cast<unsigned>(self->shared_->read_buffer_size));
}

void Connection::on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (nread == 0) return;
  self->now_ns_ = uv_hrtime();
  if (nread > 0) {
    self->on_bytes(buf->base, static_cast<size_t>(nread));
    return;
  }
  // EOF or error.
  if (self->state_ == State::kBusy || self->state_ == State::kSetup) {
    http_parser_execute(&self->parser_, &kSettings, nullptr, 0);  // EOF-delimited bodies end here
    if (self->response_done_) {
      self->on_response_end();
      if (self->state_ != State::kClosing && self->state_ != State::kClosed) self->close();
      return;
    }
    if (self->state_ == State::kBusy) {
      self->fail(ErrorKind::kReset, 0,
                 nread == UV_EOF ? "connection closed mid-response"
                                 : uv_strerror(static_cast<int>(nread)));
      return;
    }
  }
  self->close();
}

void Connection::on_bytes(const char* data, size_t n) {
  if (state_ != State::kBusy && state_ != State::kSetup) {
    close();  // bytes nobody asked for
    return;
  }
  bool final_phase = phase_ == Phase::kCompletion || phase_ == Phase::kOpenAi;
  if (final_phase && timing_.first_byte_ns == 0) timing_.first_byte_ns = now_ns_;
  size_t parsed = http_parser_execute(&parser_, &kSettings, data, n);
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if ((err != HPE_OK && err != HPE_PAUSED) || (parsed != n && !response_done_)) {
    const char* what = http_errno_description(err);
    if (state_ == State::kBusy) {
      fail(ErrorKind::kBadResponse, status_, what);
    } else {
      close();
    }
    return;
  }
  if (response_done_) on_response_end();
}

void Connection::on_event(EventKind kind) {
  owner_->on_event_bytes(1, 0);
  switch (kind) {
    case EventKind::kContent: {
      ++timing_.content_chunks;
      uint64_t gap = 0;
      if (timing_.first_content_ns == 0) {
        timing_.first_content_ns = now_ns_;
      } else {
        gap = now_ns_ - last_content_ns_;
      }
      last_content_ns_ = now_ns_;
      owner_->on_content_chunk(this, now_ns_, timing_, gap);
      break;
    }
    case EventKind::kDone:
      saw_end_event_ = true;
      break;
    case EventKind::kFinished:
      if (shared_->api == Api::kQwen) saw_end_event_ = true;
      break;
    case EventKind::kError:
      saw_error_event_ = true;
      break;
    case EventKind::kOther:
      break;
  }
}

int Connection::on_message_begin_cb(http_parser* p) {
  auto* self = static_cast<Connection*>(p->data);
  self->status_ = 0;
  self->response_done_ = false;
  self->is_sse_ = false;
  self->body_started_ = false;
  self->saw_end_event_ = false;
  self->saw_error_event_ = false;
  self->body_.clear();
  self->sse_.reset();
  return 0;
}

int Connection::on_headers_complete_cb(http_parser* p) {
  auto* self = static_cast<Connection*>(p->data);
  self->status_ = static_cast<int>(p->status_code);
  self->keep_alive_ = http_should_keep_alive(p) != 0;
  return 0;
}

int Connection::on_body_cb(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<Connection*>(p->data);
  if (len == 0) return 0;
  if (!self->body_started_) {
    self->body_started_ = true;
    // Both servers send SSE as `data:` lines and JSON bodies as objects.
    self->is_sse_ = at[0] == 'd' || at[0] == ':' || at[0] == 'e';
  }
  bool final_phase = self->phase_ == Phase::kCompletion || self->phase_ == Phase::kOpenAi;
  if (final_phase) self->owner_->on_event_bytes(0, len);
  if (self->is_sse_ && final_phase) {
    self->sse_.feed(std::string_view(at, len), self);
  } else if (self->body_.size() < kMaxBodyBytes) {
    self->body_.append(at, std::min(len, kMaxBodyBytes - self->body_.size()));
  }
  return 0;
}

int Connection::on_message_complete_cb(http_parser* p) {
  auto* self = static_cast<Connection*>(p->data);
  self->response_done_ = true;
  self->keep_alive_ = http_should_keep_alive(p) != 0;
  // Stop here: the next response belongs to the next request.
  http_parser_pause(p, 1);
  return 0;
}

void Connection::on_response_end() {
  response_done_ = false;
  http_parser_pause(&parser_, 0);
  switch (phase_) {
    case Phase::kPoolChat: {
      std::string_view id = status_ == 200 ? new_chat_id(body_) : std::string_view();
      if (id.empty() || !keep_alive_) {
        close();  // the owner sees a failed setup and retries later
        return;
      }
      pool_chat_id_.assign(id);
      phase_ = Phase::kNone;
      state_ = State::kReady;
      owner_->on_ready(this);
      return;
    }
    case Phase::kNewChat: {
      if (status_ != 200) return fail(ErrorKind::kHttpStatus, status_, excerpt(body_));
      if (new_chat_id(body_).empty()) return fail(ErrorKind::kEnvelope, 0, excerpt(body_));
      if (!keep_alive_) return fail(ErrorKind::kBadResponse, 0, "chats/new closed the connection");
      timing_.new_chat_ns = now_ns_ - phase_sent_ns_;
      send_completion();
      return;
    }
    case Phase::kCompletion:
      if (status_ != 200) return fail(ErrorKind::kHttpStatus, status_, excerpt(body_));
      if (!is_sse_) return fail(ErrorKind::kEnvelope, 0, excerpt(body_));
      if (saw_error_event_) return fail(ErrorKind::kStreamError, 0, {});
      if (!saw_end_event_) return fail(ErrorKind::kIncomplete, 0, "no finished event");
      return succeed();
    case Phase::kOpenAi:
      if (status_ != 200) return fail(ErrorKind::kHttpStatus, status_, excerpt(body_));
      if (shared_->stream) {
        if (!is_sse_) return fail(ErrorKind::kBadResponse, 0, excerpt(body_));
        if (saw_error_event_) return fail(ErrorKind::kStreamError, 0, {});
        if (!saw_end_event_) return fail(ErrorKind::kIncomplete, 0, "no [DONE]");
        return succeed();
      }
      if (body_.find("\"choices\"") == std::string::npos) {
        return fail(ErrorKind::kBadResponse, 0, excerpt(body_));
      }
      timing_.first_content_ns = now_ns_;
      timing_.content_chunks = 1;
      owner_->on_content_chunk(this, now_ns_, timing_, 0);
      return succeed();
    case Phase::kNone:
      close();
      return;
  }
}

void Connection::succeed() {
  timing_.end_ns = now_ns_;
  phase_ = Phase::kNone;
  state_ = State::kReady;
  if (!keep_alive_) close();
  owner_->on_request_end(this, timing_, nullptr, status_, {});
}

void Connection::fail(ErrorKind kind, int http_status, std::string_view detail) {
  timing_.end_ns = now_ns_ != 0 ? now_ns_ : uv_hrtime();
  phase_ = Phase::kNone;
  pool_chat_id_.clear();  // the chat may still be generating: take a new one
  // Copy: detail may point into body_, which close() leaves alone but the
  // owner may start a new request that clears it.
  std::string text(detail);
  bool was_busy = state_ == State::kBusy;
  state_ = State::kReady;  // so close() below does not treat it as dropped
  close();
  if (was_busy) {
    const ErrorKind k = kind;
    owner_->on_request_end(this, timing_, &k, http_status, text);
  }
}

void Connection::check_timeout(uint64_t now_ns, uint64_t timeout_ns) {
  if (state_ != State::kBusy && state_ != State::kSetup && state_ != State::kConnecting) return;
  uint64_t since = state_ == State::kBusy ? timing_.sent_ns : phase_sent_ns_;
  if (state_ == State::kConnecting || since == 0 || now_ns - since < timeout_ns) return;
  now_ns_ = now_ns;
  if (state_ == State::kBusy) {
    fail(ErrorKind::kTimeout, 0, "no complete response in time");
  } else {
    close();
  }
}

void Connection::close() {
  if (state_ == State::kClosed || state_ == State::kClosing) return;
  state_ = State::kClosing;
  writing_ = false;
  write_pending_ = false;
  uv_close(as_handle(&tcp_), &Connection::on_close_cb);
}

void Connection::on_close_cb(uv_handle_t* h) {
  auto* self = static_cast<Connection*>(h->data);
  self->state_ = State::kClosed;
  self->owner_->on_closed(self, !self->connected_);
}

}  // namespace qp::bench
