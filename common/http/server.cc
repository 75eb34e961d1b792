// http::Server: listening socket, accept, connection registry and the
// Exchange façade. Per-connection I/O lives in connection.cc, parsing in
// request_parser.cc, response serialisation in response_head.cc.
#include "common/http/server.h"

#include <sys/socket.h>

#include <exception>
#include <utility>
#include <vector>

#include "common/http/connection.h"
#include "common/http/response_head.h"
#include "common/http/server_context.h"
#include "common/log.h"
#include "common/uv/handle.h"

namespace qp::http {

std::string ServerContext::error_body(int status, std::string_view message) const {
  if (options.error_body) {
    try {
      return options.error_body(status, message);
    } catch (...) {
      QP_ERROR("http_error_body_threw").kv("status", status);
    }
  }
  return default_error_body(status, message);
}

void ServerContext::defer(uint64_t id) {
  if (!idle) idle = qp::uv::Idle();  // reset() by an earlier stop_deferred()
  if (idle.base()->type == UV_UNKNOWN_HANDLE) {
    uv_idle_init(loop, idle.get());
    idle.get()->data = this;
  }
  deferred.push_back(id);
  uv_idle_start(idle.get(), [](uv_idle_t* h) {
    auto* ctx = static_cast<ServerContext*>(h->data);
    if (ctx == nullptr) return;
    std::vector<uint64_t> ids;
    ids.swap(ctx->deferred);
    for (uint64_t conn_id : ids) {
      auto it = ctx->connections.find(conn_id);
      if (it == ctx->connections.end()) continue;  // closed meanwhile
      try {
        it->second->run_deferred();
      } catch (...) {
        QP_ERROR("http_internal_error").kv("conn", conn_id);
        if (auto again = ctx->connections.find(conn_id); again != ctx->connections.end()) {
          again->second->close_now("internal error");
        }
      }
      if (ctx->idle.get() == nullptr) return;  // the server closed from a callback
    }
    if (ctx->deferred.empty() && ctx->idle) uv_idle_stop(ctx->idle.get());
  });
}

bool ServerContext::throttle(Throttle* t, uint64_t* suppressed) {
  uint64_t now = uv_now(loop);
  if (t->logged && now - t->last_ms < kLogIntervalMs) {
    ++t->suppressed;
    return false;
  }
  *suppressed = t->suppressed;
  t->suppressed = 0;
  t->last_ms = now;
  t->logged = true;
  return true;
}

void ServerContext::release_address(const std::string& key) {
  auto it = per_address.find(key);
  if (it == per_address.end()) return;
  if (--it->second == 0) per_address.erase(it);
}

void ServerContext::schedule_flush(uint64_t id) {
  if (closing) return;
  flushes.push_back(id);
  flush_turn.arm(
      loop, [](void* self) { static_cast<ServerContext*>(self)->run_flushes(); }, this);
}

void ServerContext::run_flushes() {
  flushing.swap(flushes);
  for (uint64_t conn_id : flushing) {
    auto it = connections.find(conn_id);
    if (it == connections.end()) continue;  // closed meanwhile
    try {
      it->second->run_flush();
    } catch (...) {
      QP_ERROR("http_internal_error").kv("conn", conn_id);
      if (auto again = connections.find(conn_id); again != connections.end()) {
        again->second->close_now("internal error");
      }
    }
  }
  flushing.clear();
}

void ServerContext::stop_deferred() {
  deferred.clear();
  idle.reset();
  flushes.clear();
  flush_turn.close();
}

struct Server::Impl : ServerContext {
  qp::uv::Handle<uv_tcp_t> listener;
  int port = 0;
  bool listening = false;
  bool closed = false;

  static void on_connection(uv_stream_t* listener_stream, int status);
  void accept_one(uv_stream_t* listener_stream);
  Status start_listening(const std::string& where, int (*bind)(uv_tcp_t*, const void*),
                         const void* arg);
};

void Server::Impl::on_connection(uv_stream_t* listener_stream, int status) {
  auto* impl = static_cast<Impl*>(listener_stream->data);
  if (impl == nullptr || impl->closed) return;
  if (status < 0) {
    QP_WARN("http_accept_error").kv("error", uv_strerror(status));
    return;
  }
  try {
    impl->accept_one(listener_stream);
  } catch (const std::exception& e) {
    QP_ERROR("http_accept_error").kv("error", e.what());
  } catch (...) {
    QP_ERROR("http_accept_error");
  }
}

void Server::Impl::accept_one(uv_stream_t* listener_stream) {
  const bool over_limit = connections.size() >= options.max_connections;
  Connection* c = Connection::accept(this, listener_stream);
  if (c == nullptr) return;
  connections.emplace(c->id(), c);
  uint64_t suppressed = 0;
  if (over_limit) {
    if (throttle(&too_many_connections_log, &suppressed)) {
      QP_WARN("http_too_many_connections")
          .kv("limit", static_cast<uint64_t>(options.max_connections))
          .kv("not_logged", suppressed);
    }
    c->reject(503, "too many connections");
    return;
  }
  const size_t per_address_limit = options.max_connections_per_address;
  const bool exempt = c->loopback() && options.loopback_exempt;
  if (per_address_limit > 0 && !exempt) {
    size_t& n = per_address[c->address_key()];
    if (n >= per_address_limit) {
      if (throttle(&per_address_log, &suppressed)) {
        // The address is the client's own; it is not a secret.
        QP_WARN("http_too_many_connections_from_address")
            .kv("address", c->address_text())
            .kv("limit", static_cast<uint64_t>(per_address_limit))
            .kv("not_logged", suppressed);
      }
      c->reject(503, "too many connections from this address");
      return;
    }
    ++n;
    c->set_address_counted();
  }
  c->start();
}

Status Server::Impl::start_listening(const std::string& where, int (*bind)(uv_tcp_t*, const void*),
                                     const void* arg) {
  if (closed) return error(Code::kInternal, "http server is closed");
  if (listening) return error(Code::kInternal, "http server is already listening");
  qp::uv::Handle<uv_tcp_t> h;
  int r = uv_tcp_init(loop, h.get());
  if (r == 0) {
    h.get()->data = this;
    r = bind(h.get(), arg);
  }
  // libuv may defer a bind error (EADDRINUSE) to uv_listen.
  if (r == 0)
    r = uv_listen(reinterpret_cast<uv_stream_t*>(h.get()), options.backlog,  // NOLINT
                  &Impl::on_connection);
  if (r < 0) return error(Code::kIo, "cannot listen on " + where + ": " + uv_strerror(r));
  sockaddr_storage addr{};
  int len = sizeof(addr);
  r = uv_tcp_getsockname(h.get(), reinterpret_cast<sockaddr*>(&addr), &len);  // NOLINT
  if (r < 0) return error(Code::kIo, "getsockname on " + where + ": " + uv_strerror(r));
  if (addr.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);  // NOLINT
  } else if (addr.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);  // NOLINT
  }
  listener = std::move(h);
  listening = true;
  return Status::ok_status();
}

// ------------------------------------------------------------------- Server

Server::Server(uv_loop_t* loop, ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->loop = loop;
  impl_->server = this;
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->body_budget = BodyBudget(impl_->options.max_buffered_body_bytes);
}

Server::~Server() { close(); }

Status Server::listen() {
  const ServerOptions& o = impl_->options;
  std::string host = o.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const bool v6 = host.find(':') != std::string::npos;
  const std::string where = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(o.port);
  if (o.port < 0 || o.port > 65535) {
    return error(Code::kInvalidArgument, "invalid listen port in " + where);
  }
  sockaddr_storage addr{};
  int r = v6 ? uv_ip6_addr(host.c_str(), o.port, reinterpret_cast<sockaddr_in6*>(&addr))  // NOLINT
             : uv_ip4_addr(host.c_str(), o.port, reinterpret_cast<sockaddr_in*>(&addr));  // NOLINT
  if (r < 0) {
    return error(Code::kInvalidArgument,
                 "invalid listen address " + where + ": expected an IPv4 or IPv6 literal");
  }
  return impl_->start_listening(
      where,
      [](uv_tcp_t* t, const void* a) { return uv_tcp_bind(t, static_cast<const sockaddr*>(a), 0); },
      &addr);
}

Status Server::listen_fd(int fd) {
  return impl_->start_listening(
      "inherited socket fd " + std::to_string(fd),
      [](uv_tcp_t* t, const void* a) { return uv_tcp_open(t, *static_cast<const int*>(a)); }, &fd);
}

int Server::port() const { return impl_->port; }

void Server::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  impl_->closing = true;
  impl_->listener.reset();
  impl_->stop_deferred();
  std::vector<Connection*> open;
  open.reserve(impl_->connections.size());
  for (auto& [id, c] : impl_->connections) open.push_back(c);
  // Each Connection stays allocated until the loop runs its close callbacks,
  // so the pointers remain valid even if an on_abort callback re-enters.
  for (Connection* c : open) c->close_now("server shutdown");
}

void Server::stop_accepting() {
  if (impl_->closed || impl_->draining) return;
  impl_->draining = true;
  impl_->listener.reset();
  std::vector<Connection*> open;
  open.reserve(impl_->connections.size());
  for (auto& [id, c] : impl_->connections) open.push_back(c);
  for (Connection* c : open) c->drain();
}

size_t Server::connection_count() const { return impl_->connections.size(); }

size_t Server::active_exchange_count() const { return impl_->exchanges.size(); }

size_t Server::buffered_body_bytes() const { return impl_->body_budget.used(); }

// ----------------------------------------------------------------- Exchange

Connection* Exchange::connection() const {
  if (server_ == nullptr) return nullptr;
  auto& exchanges = server_->impl_->exchanges;
  auto it = exchanges.find(id_);
  return it == exchanges.end() ? nullptr : it->second;
}

bool Exchange::alive() const { return connection() != nullptr; }

const Request& Exchange::request() const {
  static const Request kEmpty;
  Connection* c = connection();
  return c != nullptr ? c->request() : kEmpty;
}

void Exchange::respond(int status, Headers headers, std::string body) {
  if (Connection* c = connection()) c->respond(status, headers, std::move(body));
}

void Exchange::start_stream(int status, Headers headers) {
  if (Connection* c = connection()) c->start_stream(status, headers);
}

bool Exchange::write(std::string data) {
  Connection* c = connection();
  return c != nullptr && c->write(std::move(data));
}

void Exchange::end() {
  if (Connection* c = connection()) c->end();
}

void Exchange::abort() {
  if (Connection* c = connection()) c->abort_exchange();
}

void Exchange::on_abort(std::function<void()> cb) {
  if (Connection* c = connection()) c->set_abort_callback(std::move(cb));
}

size_t Exchange::queued_bytes() const {
  Connection* c = connection();
  return c != nullptr ? c->queued_bytes() : 0;
}

}  // namespace qp::http
