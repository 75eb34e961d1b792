#include "common/http/connection.h"

#include <sys/socket.h>

#include <exception>
#include <utility>

#include "common/http/peer_address.h"
#include "common/log.h"

namespace qp::http {
namespace {

constexpr size_t kMaxPooledWrites = 8;
constexpr size_t kMaxPooledHeadCapacity = 4096;
constexpr uint64_t kDefaultFlushTimeoutMs = 60'000;
constexpr const char* kBusyRetryAfterS = "1";

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
// Streamed writes smaller than this are collected until the end of the loop
// turn; larger ones are written at once (copying them would cost more than
// the syscall they save).
constexpr size_t kCollectMaxBytes = 64 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

uv_buf_t make_buf(std::string_view s) {
  // libuv never writes through a write buffer; its type is just not const.
  return uv_buf_init(const_cast<char*>(s.data()), static_cast<unsigned>(s.size()));  // NOLINT
}

uv_handle_t* as_handle(void* h) { return static_cast<uv_handle_t*>(h); }

}  // namespace

// Runs the body of a libuv callback: no exception may cross into C.
template <typename F>
void Connection::guarded(Connection* c, F&& body) noexcept {
  try {
    body();
  } catch (const std::exception& e) {
    QP_ERROR("http_internal_error").kv("conn", c->id_).kv("error", e.what());
    c->close_now("internal error");
  } catch (...) {
    QP_ERROR("http_internal_error").kv("conn", c->id_);
    c->close_now("internal error");
  }
}

Connection* Connection::accept(ServerContext* ctx, uv_stream_t* listener) {
  auto* c = new Connection(ctx, ctx->next_connection_id++);
  uv_tcp_init(ctx->loop, &c->tcp_);
  uv_timer_init(ctx->loop, &c->timer_);
  c->open_handles_ = 2;
  int r = uv_accept(listener, c->stream());
  if (r < 0) {
    QP_WARN("http_accept_failed").kv("error", uv_strerror(r));
    c->close_now("accept failed");  // frees it in the close callbacks
    return nullptr;
  }
  uv_tcp_nodelay(&c->tcp_, 1);  // chunks are small and latency matters
  sockaddr_storage peer{};
  int len = sizeof(peer);
  if (uv_tcp_getpeername(&c->tcp_, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {  // NOLINT
    PeerAddress a = classify_peer(peer);
    c->address_key_ = std::move(a.key);
    c->loopback_ = a.loopback;
  }
  return c;
}

Connection::Connection(ServerContext* ctx, uint64_t id)
    : ctx_(ctx), id_(id), parser_(ctx->options.max_header_bytes, ctx->options.max_body_bytes) {
  parser_.set_body_budget(&ctx->body_budget);
  tcp_.data = this;
  timer_.data = this;
  shutdown_req_.data = this;
}

Connection::~Connection() {
  while (free_writes_ != nullptr) {
    WriteReq* w = free_writes_;
    free_writes_ = w->next;
    delete w;
  }
}

std::string Connection::address_text() const { return address_key_text(address_key_); }

void Connection::start() { process(); }

void Connection::reject(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  process();
}

// ---------------------------------------------------------------- callbacks

void Connection::on_alloc(uv_handle_t* h, size_t /*suggested*/, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(c->ctx_->read_buffer.get(), ServerContext::kReadBufferSize);
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(s->data);
  guarded(c, [&] {
    if (nread > 0) {
      c->on_data(buf->base, static_cast<size_t>(nread));
    } else if (nread < 0) {
      c->on_read_end(nread);
    }
  });
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  Connection* c = w->conn;
  c->release_write(w);
  if (c->state_ == State::kClosing) return;  // UV_ECANCELED from uv_close: nothing else to do
  if (status < 0) {
    guarded(c, [&] {
      QP_DEBUG("http_write_error").kv("conn", c->id_).kv("error", uv_strerror(status));
      c->close_now("write error");
    });
  }
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  if (c->state_ != State::kFinishing) return;
  c->shutdown_done_ = true;
  uint64_t linger_ms = c->ctx_->options.linger_timeout_ms;
  if (status < 0 || c->eof_ || linger_ms == 0) {
    guarded(c, [&] { c->close_now("response sent"); });
    return;
  }
  // Everything is flushed; wait (briefly) for the client's FIN so that closing
  // with unread client bytes does not turn into a reset that eats the response.
  uv_timer_start(&c->timer_, &Connection::on_timer, linger_ms, 0);
}

void Connection::on_timer(uv_timer_t* t) {
  auto* c = static_cast<Connection*>(t->data);
  guarded(c, [&] {
    if (c->state_ == State::kFinishing) {
      c->close_now(c->shutdown_done_ ? "linger timeout" : "flush timeout");
    } else if (c->state_ == State::kOpen) {
      c->on_idle_timeout();
    }
  });
}

void Connection::on_close(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->open_handles_ == 0) delete c;
}

// ------------------------------------------------------------------ reading

void Connection::on_data(const char* data, size_t len) {
  if (state_ != State::kOpen) return;  // finishing: discard
  feed_input(data, len);
  process();
}

void Connection::on_read_end(ssize_t status) {
  reading_ = false;
  if (status != UV_EOF) {
    close_now("read error");
    return;
  }
  eof_ = true;
  if (state_ == State::kFinishing) {
    if (shutdown_done_) close_now("client closed");
    // else on_shutdown closes once the response is flushed
    return;
  }
  if (state_ != State::kOpen) return;
  if (phase_ != Phase::kNone || !queue_.empty() || parser_.mid_request()) {
    // A half-closed client counts as gone: cancel the work it asked for.
    close_now("client closed");
    return;
  }
  finish();  // idle: flush what was already answered, then close
}

void Connection::on_idle_timeout() {
  if (phase_ != Phase::kNone) return;  // no timeout while a handler owns an exchange
  if (wait_ == Wait::kNone || error_status_ != 0) {
    close_now("idle timeout");
    return;
  }
  const uint64_t now = uv_now(ctx_->loop);
  const uint64_t deadline = read_deadline(now);
  if (deadline == 0) {  // cannot happen while waiting; be safe
    after_process();
    return;
  }
  if (now < deadline) {
    uv_timer_start(&timer_, &Connection::on_timer, deadline - now, 0);
    return;
  }
  const bool head = wait_ == Wait::kHead;
  uint64_t suppressed = 0;
  if (ctx_->throttle(&ctx_->timeout_log, &suppressed)) {
    QP_WARN("http_slow_client")
        .kv("conn", id_)
        .kv("waiting_for", head ? "head" : "body")
        .kv("not_logged", suppressed);
  }
  error_status_ = 408;
  error_message_ =
      head ? "request headers not received in time" : "request body not received in time";
  process();  // answers 408 and closes
}

uint64_t Connection::read_deadline(uint64_t now) {
  if (error_status_ != 0 || !parser_.mid_request()) {
    wait_ = Wait::kNone;
    return 0;
  }
  const ServerOptions& o = ctx_->options;
  if (parser_.in_head()) {
    if (wait_ != Wait::kHead) {
      wait_ = Wait::kHead;
      wait_start_ms_ = now;
    }
    return o.header_timeout_ms > 0 ? wait_start_ms_ + o.header_timeout_ms : 0;
  }
  if (wait_ != Wait::kBody) {
    wait_ = Wait::kBody;
    wait_start_ms_ = now;
  }
  if (o.body_timeout_ms == 0) return 0;
  uint64_t size = parser_.declared_body_bytes();
  if (size == RequestParser::kUnknownLength) size = parser_.body_bytes();
  const uint64_t allowance_ms =
      o.body_min_bytes_per_s > 0 ? size * 1000 / o.body_min_bytes_per_s : 0;
  return wait_start_ms_ + o.body_timeout_ms + allowance_ms;
}

bool Connection::queue_full() const {
  size_t max_queue = ctx_->options.max_pipelined_requests;
  if (max_queue == 0) max_queue = 1;
  return queue_.size() >= max_queue || queued_body_bytes_ > ctx_->options.max_body_bytes;
}

void Connection::feed_input(const char* data, size_t len) {
  size_t off = 0;
  while (off < len) {
    if (error_status_ != 0) return;  // an error response is owed: discard the rest
    if (!pending_input_.empty() || queue_full()) {
      pending_input_.append(data + off, len - off);
      return;
    }
    auto step = parser_.feed(std::string_view(data + off, len - off));
    off += step.consumed;
    if (step.event == RequestParser::Event::kRequest) {
      wait_ = Wait::kNone;
      Request r = parser_.take_request();
      r.connection_id = id_;
      queued_body_bytes_ += r.body.size();
      queue_.push_back(std::move(r));
    } else if (step.event == RequestParser::Event::kError) {
      error_status_ = parser_.error_status();
      error_message_ = parser_.error_message();
      uint64_t suppressed = 0;
      if (error_status_ == 503 && ctx_->throttle(&ctx_->body_budget_log, &suppressed)) {
        QP_WARN("http_body_budget_exhausted")
            .kv("buffered_bytes", static_cast<uint64_t>(ctx_->body_budget.used()))
            .kv("limit", static_cast<uint64_t>(ctx_->body_budget.limit()))
            .kv("not_logged", suppressed);
      }
      return;
    } else if (step.consumed == 0) {
      return;
    }
  }
}

void Connection::set_reading(bool on) {
  if (on == reading_) return;
  if (on) {
    if (eof_) return;
    int r = uv_read_start(stream(), &Connection::on_alloc, &Connection::on_read);
    if (r < 0) {
      close_now("read start failed");
      return;
    }
  } else {
    uv_read_stop(stream());
  }
  reading_ = on;
}

// ---------------------------------------------------------------- dispatch

void Connection::process() {
  if (in_process_) {
    process_again_ = true;
    return;
  }
  in_process_ = true;
  do {
    process_again_ = false;
    if (!pending_input_.empty() && !queue_full()) {
      std::string input;
      input.swap(pending_input_);
      feed_input(input.data(), input.size());
    }
    if (state_ == State::kOpen && phase_ == Phase::kNone) {
      if (!queue_.empty()) {
        dispatch_next();
      } else if (error_status_ != 0) {
        send_error();
      }
    }
  } while (state_ == State::kOpen &&
           (process_again_ || (phase_ == Phase::kNone && !queue_.empty())));
  in_process_ = false;
  if (state_ == State::kOpen) after_process();
}

void Connection::after_process() {
  const bool idle = phase_ == Phase::kNone && queue_.empty();
  if (idle && error_status_ == 0 && parser_.wants_continue()) {
    // Only now: a 100 Continue must not land inside an earlier response.
    parser_.continue_sent();
    if (!submit_static(kContinue)) return;
  }
  // Keep reading while a response streams, to notice the client leaving;
  // stop only when parsed-ahead requests fill the queue (TCP backpressure).
  set_reading(pending_input_.empty());
  if (state_ != State::kOpen) return;
  if (!idle) {
    uv_timer_stop(&timer_);
    return;
  }
  // Waiting for the client: for the rest of a request, a deadline that no
  // byte extends (slow clients must not hold a connection forever); for a
  // new request, the idle timeout.
  const uint64_t now = uv_now(ctx_->loop);
  const uint64_t deadline = read_deadline(now);
  const uint64_t idle_ms = ctx_->options.idle_timeout_ms;
  if (deadline != 0) {
    uv_timer_start(&timer_, &Connection::on_timer, deadline > now ? deadline - now : 0, 0);
  } else if (wait_ == Wait::kNone && idle_ms > 0) {
    uv_timer_start(&timer_, &Connection::on_timer, idle_ms, 0);
  } else {
    uv_timer_stop(&timer_);
  }
}

void Connection::dispatch_next() {
  active_ = std::move(queue_.front());
  queue_.erase(queue_.begin());
  queued_body_bytes_ -= active_.body.size();
  ctx_->body_budget.release(active_.body.size());  // the handler owns it now
  phase_ = Phase::kHandler;
  exchange_id_ = ctx_->next_exchange_id++;
  abort_cb_ = nullptr;
  close_after_ = !active_.keep_alive || ctx_->closing || ctx_->draining;
  head_request_ = active_.method == "HEAD";
  ctx_->exchanges.emplace(exchange_id_, this);
  uv_timer_stop(&timer_);

  const uint64_t id = exchange_id_;
  try {
    ctx_->handler(Exchange(ctx_->server, id));
  } catch (const std::exception& e) {
    handler_failed(id, e.what());
  } catch (...) {
    handler_failed(id, "unknown exception");
  }
}

void Connection::handler_failed(uint64_t exchange_id, const std::string& what) {
  QP_ERROR("http_handler_threw").kv("conn", id_).kv("error", what);
  if (state_ != State::kOpen || phase_ == Phase::kNone || exchange_id_ != exchange_id) return;
  if (phase_ == Phase::kHandler) {
    respond(500, {{"Content-Type", ctx_->options.error_content_type}},
            ctx_->error_body(500, "internal server error"));
  } else {
    flush_output(false);                    // what the handler wrote before it threw still leaves
    close_now("handler threw mid-stream");  // the chunked body cannot be completed
  }
}

void Connection::end_exchange() {
  ctx_->exchanges.erase(exchange_id_);
  phase_ = Phase::kNone;
  abort_cb_ = nullptr;
  active_ = Request{};
  if (close_after_) {
    finish();
  } else if (in_process_) {
    process_again_ = true;  // the running process() dispatches the next request
  } else if (!queue_.empty() || error_status_ != 0 || !pending_input_.empty()) {
    // Ended from outside a handler (say an upstream callback): the next handler
    // must not run inside the caller's stack.
    defer();
  } else {
    after_process();
  }
}

void Connection::defer() {
  if (deferred_) return;
  deferred_ = true;
  ctx_->defer(id_);
}

void Connection::run_deferred() {
  deferred_ = false;
  if (state_ == State::kClosing) return;
  if (broken_) {
    close_now("write failed");
    return;
  }
  if (state_ == State::kOpen) process();
}

ConnectionHeader Connection::connection_header() const {
  if (close_after_) return ConnectionHeader::kClose;
  if (active_.http_major == 1 && active_.http_minor == 0) return ConnectionHeader::kKeepAlive;
  return ConnectionHeader::kNone;
}

// ---------------------------------------------------------------- responses

void Connection::respond(int status, const Headers& headers, std::string body) {
  if (state_ != State::kOpen || phase_ != Phase::kHandler || broken_) return;
  if (asks_to_close(headers)) close_after_ = true;
  HeadSpec spec;
  spec.status = status;
  const bool allows_body = status_allows_body(status);
  spec.framing = allows_body ? Framing::kContentLength : Framing::kNone;
  spec.content_length = body.size();  // for HEAD: the size the GET would have had
  spec.connection = connection_header();

  WriteReq* w = acquire_write();
  append_response_head(&w->head, spec, headers, ctx_->options.default_headers);
  uv_buf_t bufs[2];
  unsigned n = 0;
  bufs[n++] = make_buf(w->head);
  if (allows_body && !head_request_ && !body.empty()) {
    w->data = std::move(body);
    bufs[n++] = make_buf(w->data);
  }
  if (!submit(w, bufs, n)) return;
  end_exchange();
}

void Connection::start_stream(int status, const Headers& headers) {
  if (state_ != State::kOpen || phase_ != Phase::kHandler || broken_) return;
  if (asks_to_close(headers)) close_after_ = true;
  HeadSpec spec;
  spec.status = status;
  if (!status_allows_body(status)) {
    spec.framing = Framing::kNone;
    body_mode_ = BodyMode::kDiscard;
  } else if (active_.http_major == 1 && active_.http_minor == 0) {
    // HTTP/1.0 has no chunked encoding: the body ends when we close.
    spec.framing = Framing::kNone;
    close_after_ = true;
    body_mode_ = head_request_ ? BodyMode::kDiscard : BodyMode::kRaw;
  } else {
    spec.framing = Framing::kChunked;
    body_mode_ = head_request_ ? BodyMode::kDiscard : BodyMode::kChunked;
  }
  spec.connection = connection_header();
  phase_ = Phase::kStreaming;

  WriteReq* w = acquire_write();
  append_response_head(&w->head, spec, headers, ctx_->options.default_headers);
  uv_buf_t buf = make_buf(w->head);
  submit(w, &buf, 1);
}

bool Connection::write(std::string data) {
  if (state_ != State::kOpen || phase_ != Phase::kStreaming || broken_) return false;
  if (data.empty() || body_mode_ == BodyMode::kDiscard) return true;
  if (data.size() >= kCollectMaxBytes) {
    // Large: written now as its own chunk (no copy), after what was collected.
    if (!flush_output(false)) return false;
    out_ = std::move(data);
    return flush_output(false);
  }
  // Collected, not written: every write of this loop turn leaves in one chunk
  // and one syscall at the end of the turn (ServerContext::schedule_flush).
  if (out_.empty()) {
    out_ = std::move(data);
  } else {
    out_.append(data);
  }
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    ctx_->schedule_flush(id_);
  }
  return true;
}

void Connection::run_flush() {
  flush_scheduled_ = false;
  flush_output(false);
}

bool Connection::flush_output(bool last) {
  if (state_ != State::kOpen || phase_ != Phase::kStreaming || broken_) {
    out_.clear();
    return false;
  }
  const bool chunked = body_mode_ == BodyMode::kChunked;
  if (out_.empty() && !(last && chunked)) return true;
  WriteReq* w = acquire_write();
  w->data.swap(out_);  // out_ takes the request's empty string
  uv_buf_t bufs[4];
  unsigned n = 0;
  if (!w->data.empty()) {
    if (chunked) {
      // One chunk: size line, the collected bytes (not copied again), CRLF.
      size_t len = format_chunk_size_line(w->data.size(), w->size_line);
      bufs[n++] = uv_buf_init(w->size_line, static_cast<unsigned>(len));
      bufs[n++] = make_buf(w->data);
      bufs[n++] = make_buf(kCrlf);
    } else {
      bufs[n++] = make_buf(w->data);
    }
  }
  if (last && chunked) bufs[n++] = make_buf(kLastChunk);
  return submit(w, bufs, n);
}

void Connection::end() {
  if (state_ != State::kOpen || broken_) return;
  if (phase_ == Phase::kHandler) start_stream(200, {});
  if (state_ != State::kOpen || phase_ != Phase::kStreaming) return;
  // The collected bytes and the last chunk go in one write.
  if (!flush_output(true)) return;
  end_exchange();
}

size_t Connection::queued_bytes() const {
  return uv_stream_get_write_queue_size(stream()) + out_.size();
}

void Connection::send_error() {
  const int status = error_status_;
  error_status_ = 0;
  QP_DEBUG("http_error_response").kv("conn", id_).kv("status", status).kv("error", error_message_);
  std::string body = ctx_->error_body(status, error_message_);
  Headers headers{{"Content-Type", ctx_->options.error_content_type}};
  // A busy server (connection limits, body budget): worth retrying shortly.
  if (status == 503) headers.push_back({"Retry-After", kBusyRetryAfterS});
  HeadSpec spec;
  spec.status = status;
  spec.framing = Framing::kContentLength;
  spec.content_length = body.size();
  spec.connection = ConnectionHeader::kClose;
  WriteReq* w = acquire_write();
  append_response_head(&w->head, spec, headers, ctx_->options.default_headers);
  w->data = std::move(body);
  uv_buf_t bufs[2] = {make_buf(w->head), make_buf(w->data)};
  if (!submit(w, bufs, 2)) return;
  finish();
}

// ------------------------------------------------------------------ closing

void Connection::finish() {
  if (state_ != State::kOpen) return;
  state_ = State::kFinishing;
  release_bodies();
  pending_input_.clear();
  int r = uv_shutdown(&shutdown_req_, stream(), &Connection::on_shutdown);
  if (r < 0) {
    close_now("shutdown failed");
    return;
  }
  // Deadline for flushing; on_shutdown replaces it with the linger timeout.
  uint64_t flush_ms = ctx_->options.idle_timeout_ms;
  if (flush_ms == 0) flush_ms = kDefaultFlushTimeoutMs;
  uv_timer_start(&timer_, &Connection::on_timer, flush_ms, 0);
  set_reading(true);  // discard client bytes and notice its FIN
}

void Connection::release_bodies() {
  ctx_->body_budget.release(queued_body_bytes_);
  queued_body_bytes_ = 0;
  queue_.clear();
  parser_.release_body_reservation();
}

void Connection::drain() {
  if (state_ != State::kOpen) return;
  if (phase_ == Phase::kNone && queue_.empty() && error_status_ == 0 && !parser_.mid_request()) {
    finish();  // idle keep-alive connection
  } else {
    close_after_ = true;  // a request arriving now is dispatched with close_after_ set too
  }
}

void Connection::abort_exchange() {
  if (state_ == State::kClosing || phase_ == Phase::kNone) return;
  abort_cb_ = nullptr;  // the handler asked for it: no on_abort
  reset_ = true;
  close_now("aborted by handler");
}

void Connection::close_now(const char* reason) {
  if (state_ == State::kClosing) return;
  QP_DEBUG("http_conn_close").kv("conn", id_).kv("reason", reason);
  state_ = State::kClosing;
  ctx_->connections.erase(id_);
  release_bodies();
  if (address_counted_) {
    address_counted_ = false;
    ctx_->release_address(address_key_);
  }
  std::function<void()> abort;
  if (phase_ != Phase::kNone) {
    ctx_->exchanges.erase(exchange_id_);  // first, so Exchange calls from on_abort are no-ops
    phase_ = Phase::kNone;
    abort = std::move(abort_cb_);
    abort_cb_ = nullptr;
  }
  pending_input_.clear();
  out_ = std::string();
  // A reset drops unsent bytes and tells the client at once; it needs a
  // connection whose write side was not shut down (else: a plain close).
  if (!reset_ || uv_tcp_close_reset(&tcp_, &Connection::on_close) != 0) {
    uv_close(as_handle(&tcp_), &Connection::on_close);
  }
  uv_close(as_handle(&timer_), &Connection::on_close);
  if (abort) {
    try {
      abort();
    } catch (const std::exception& e) {
      QP_ERROR("http_on_abort_threw").kv("conn", id_).kv("error", e.what());
    } catch (...) {
      QP_ERROR("http_on_abort_threw").kv("conn", id_);
    }
  }
}

// ------------------------------------------------------------------ writing

Connection::WriteReq* Connection::acquire_write() {
  WriteReq* w = free_writes_;
  if (w != nullptr) {
    free_writes_ = w->next;
    --free_count_;
    w->head.clear();
  } else {
    w = new WriteReq;
    w->conn = this;
  }
  w->req.data = w;
  w->next = nullptr;
  return w;
}

void Connection::release_write(WriteReq* w) {
  w->data = std::string();  // the payload's memory goes back now, not on reuse
  if (free_count_ >= kMaxPooledWrites || w->head.capacity() > kMaxPooledHeadCapacity) {
    delete w;
    return;
  }
  w->next = free_writes_;
  free_writes_ = w;
  ++free_count_;
}

bool Connection::submit(WriteReq* w, const uv_buf_t* bufs, unsigned nbufs) {
  int r = uv_write(&w->req, stream(), bufs, nbufs, &Connection::on_write);
  if (r < 0) {
    release_write(w);
    QP_DEBUG("http_write_error").kv("conn", id_).kv("error", uv_strerror(r));
    broken_ = true;
    defer();
    return false;
  }
  return true;
}

bool Connection::submit_static(std::string_view bytes) {
  WriteReq* w = acquire_write();
  uv_buf_t buf = make_buf(bytes);
  return submit(w, &buf, 1);
}

}  // namespace qp::http
