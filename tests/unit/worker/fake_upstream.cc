#include "fake_upstream.h"

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace qp::testing {

struct FakeUpstream::Conn {
  FakeUpstream* owner = nullptr;
  uv_tcp_t* tcp = nullptr;
  uv_timer_t* timer = nullptr;
  std::string in;
  bool responded = false;
  bool closed = false;
  FakeResponse response;
  size_t next_piece = 0;
};

namespace {

struct WriteReq {
  uv_write_t req;
  std::string data;
  void* conn;  // valid unless the write was cancelled
};

void free_handle(uv_handle_t* h) { std::free(h); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    default:
      return "Status";
  }
}

}  // namespace

FakeUpstream::FakeUpstream(uv_loop_t* loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {
  // Writing to a connection the client already closed must not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  server_ = static_cast<uv_tcp_t*>(std::calloc(1, sizeof(uv_tcp_t)));
  uv_tcp_init(loop_, server_);
  server_->data = this;
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_bind(server_, reinterpret_cast<const sockaddr*>(&addr), 0);
  uv_listen(reinterpret_cast<uv_stream_t*>(server_), 64, [](uv_stream_t* s, int status) {
    if (status == 0 && s->data != nullptr) static_cast<FakeUpstream*>(s->data)->on_connection();
  });
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(server_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

FakeUpstream::~FakeUpstream() { close(); }

void FakeUpstream::close() {
  if (server_ != nullptr) {
    server_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(server_), free_handle);
    server_ = nullptr;
  }
  for (auto& c : conns_) close_conn(c.get());
}

void FakeUpstream::on_connection() {
  auto c = std::make_unique<Conn>();
  c->owner = this;
  c->tcp = static_cast<uv_tcp_t*>(std::calloc(1, sizeof(uv_tcp_t)));
  uv_tcp_init(loop_, c->tcp);
  c->tcp->data = c.get();
  c->timer = static_cast<uv_timer_t*>(std::calloc(1, sizeof(uv_timer_t)));
  uv_timer_init(loop_, c->timer);
  c->timer->data = c.get();
  if (uv_accept(reinterpret_cast<uv_stream_t*>(server_), reinterpret_cast<uv_stream_t*>(c->tcp)) !=
      0) {
    uv_close(reinterpret_cast<uv_handle_t*>(c->tcp), free_handle);
    uv_close(reinterpret_cast<uv_handle_t*>(c->timer), free_handle);
    return;
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(c->tcp),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = static_cast<char*>(std::malloc(suggested));
        buf->len = suggested;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* conn = static_cast<Conn*>(s->data);
        if (conn != nullptr && n > 0) {
          conn->in.append(buf->base, static_cast<size_t>(n));
          conn->owner->on_request(conn);
        } else if (conn != nullptr && n < 0) {
          conn->owner->close_conn(conn);
        }
        std::free(buf->base);
      });
  conns_.push_back(std::move(c));
}

void FakeUpstream::on_request(Conn* c) {
  if (c->responded) return;
  size_t end = c->in.find("\r\n\r\n");
  if (end == std::string::npos) return;
  FakeRequest r;
  size_t line_end = c->in.find("\r\n");
  std::string line = c->in.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.find(' ', sp1 + 1);
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end + 2;
  while (pos < end) {
    size_t e = c->in.find("\r\n", pos);
    std::string h = c->in.substr(pos, e - pos);
    size_t colon = h.find(':');
    std::string value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[lower(h.substr(0, colon))] = value;
    pos = e + 2;
  }
  size_t length = 0;
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    length = std::strtoul(it->second.c_str(), nullptr, 10);
  }
  if (c->in.size() < end + 4 + length) return;
  r.body = c->in.substr(end + 4, length);
  c->responded = true;
  requests_.push_back(r);
  c->response = handler_(r);
  if (c->response.hang) return;
  std::string head = "HTTP/1.1 " + std::to_string(c->response.status) + " " +
                     reason(c->response.status) + "\r\nContent-Type: " + c->response.content_type +
                     "\r\nConnection: close\r\n\r\n";
  c->response.pieces.insert(c->response.pieces.begin(), head);
  if (c->response.held) {
    std::string all;
    for (const auto& piece : c->response.pieces) all += piece;
    c->response.pieces = {all};
    held_.push_back(c);
    return;
  }
  write_next(c);
}

void FakeUpstream::release_held() {
  std::vector<Conn*> held;
  held.swap(held_);
  for (Conn* c : held) write_next(c);
}

void FakeUpstream::write_next(Conn* c) {
  if (c->closed) return;
  if (c->next_piece >= c->response.pieces.size()) {
    if (!c->response.keep_open) close_conn(c);
    return;
  }
  auto* w = new WriteReq;
  w->data = c->response.pieces[c->next_piece++];
  w->conn = c;
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  uv_write(&w->req, reinterpret_cast<uv_stream_t*>(c->tcp), &buf, 1,
           [](uv_write_t* req, int status) {
             auto* wr = static_cast<WriteReq*>(req->data);
             auto* conn = static_cast<Conn*>(wr->conn);
             delete wr;
             if (status != 0) return;  // cancelled: the connection is gone
             if (conn->closed) return;
             if (conn->response.piece_delay_ms == 0 ||
                 conn->next_piece >= conn->response.pieces.size()) {
               conn->owner->write_next(conn);
               return;
             }
             uv_timer_start(
                 conn->timer,
                 [](uv_timer_t* t) {
                   auto* cc = static_cast<Conn*>(t->data);
                   if (cc != nullptr) cc->owner->write_next(cc);
                 },
                 conn->response.piece_delay_ms, 0);
           });
}

void FakeUpstream::close_conn(Conn* c) {
  if (c->closed) return;
  c->closed = true;
  c->tcp->data = nullptr;
  c->timer->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(c->tcp), free_handle);
  uv_close(reinterpret_cast<uv_handle_t*>(c->timer), free_handle);
  // Keep the Conn alive: a completed write's callback may still look at it
  // in this loop iteration. It is freed with the server.
}

bool run_until(uv_loop_t* loop, const std::function<bool()>& pred, uint64_t timeout_ms) {
  auto* timer = static_cast<uv_timer_t*>(std::calloc(1, sizeof(uv_timer_t)));
  bool expired = false;
  uv_timer_init(loop, timer);
  timer->data = &expired;
  uv_timer_start(
      timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, timeout_ms, 0);
  while (!pred() && !expired) uv_run(loop, UV_RUN_ONCE);
  timer->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(timer), free_handle);
  return pred();
}

}  // namespace qp::testing
