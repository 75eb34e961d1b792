#include "tests/unit/http/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include <http_parser.h>

#include "common/uv/handle.h"

namespace qp::http::test {

// ------------------------------------------------------------ ClientResponse

std::optional<std::string> ClientResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- TestClient

namespace {

constexpr int kRecvTimeoutSec = 5;

struct ParseState {
  ClientResponse resp;
  bool head_request = false;
  bool in_value = false;
  bool complete = false;
};

ParseState* state(http_parser* p) { return static_cast<ParseState*>(p->data); }

const http_parser_settings& response_settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings st;
    http_parser_settings_init(&st);
    st.on_header_field = [](http_parser* p, const char* at, size_t len) {
      auto* s = state(p);
      if (s->in_value || s->resp.headers.empty()) s->resp.headers.emplace_back();
      s->in_value = false;
      for (size_t i = 0; i < len; ++i) {
        s->resp.headers.back().first.push_back(static_cast<char>(tolower(at[i])));
      }
      return 0;
    };
    st.on_header_value = [](http_parser* p, const char* at, size_t len) {
      auto* s = state(p);
      s->resp.headers.back().second.append(at, len);
      s->in_value = true;
      return 0;
    };
    st.on_headers_complete = [](http_parser* p) {
      auto* s = state(p);
      s->resp.status = static_cast<int>(p->status_code);
      return s->head_request ? 1 : 0;
    };
    st.on_body = [](http_parser* p, const char* at, size_t len) {
      state(p)->resp.body.append(at, len);
      return 0;
    };
    st.on_chunk_header = [](http_parser* p) {
      if (p->content_length > 0) ++state(p)->resp.chunks;
      return 0;
    };
    st.on_message_complete = [](http_parser* p) {
      auto* s = state(p);
      s->resp.keep_alive = http_should_keep_alive(p) != 0;
      s->complete = true;
      http_parser_pause(p, 1);
      return 0;
    };
    return st;
  }();
  return settings;
}

}  // namespace

TestClient::~TestClient() { close(); }

bool TestClient::connect(int port, bool ipv6) {
  close();
  eof_ = false;
  peer_closed_ = false;
  buf_.clear();
  fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  timeval tv{kRecvTimeoutSec, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int r;
  if (ipv6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    a.sin6_addr = in6addr_loopback;
    r = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  if (r != 0) {
    close();
    return false;
  }
  return true;
}

bool TestClient::send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestClient::recv_more() {
  if (fd_ < 0 || eof_) return false;
  char tmp[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      peer_closed_ = n == 0 || errno == ECONNRESET;
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
}

std::optional<ClientResponse> TestClient::read_response(bool head_request) {
  ParseState st;
  st.head_request = head_request;
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &st;
  for (;;) {
    if (!buf_.empty()) {
      size_t n = http_parser_execute(&parser, &response_settings(), buf_.data(), buf_.size());
      auto err = HTTP_PARSER_ERRNO(&parser);
      if (err != HPE_OK && err != HPE_PAUSED) return std::nullopt;
      buf_.erase(0, n);
      if (st.complete) return st.resp;
    }
    if (!recv_more()) {
      // A close-delimited body ends at EOF.
      http_parser_execute(&parser, &response_settings(), nullptr, 0);
      if (st.complete) return st.resp;
      return std::nullopt;
    }
  }
}

bool TestClient::read_until(std::string_view marker) {
  while (buf_.find(marker) == std::string::npos) {
    if (!recv_more()) return false;
  }
  return true;
}

std::optional<std::string> TestClient::read_exact(size_t n) {
  while (buf_.size() < n) {
    if (!recv_more()) return std::nullopt;
  }
  std::string out = buf_.substr(0, n);
  buf_.erase(0, n);
  return out;
}

bool TestClient::wait_closed() {
  if (!buf_.empty()) return false;
  if (fd_ < 0) return false;
  char c;
  for (;;) {
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      peer_closed_ = true;
      return true;
    }
    if (n < 0) return false;  // EAGAIN: the 5 s timeout expired
    return false;             // unexpected data
  }
}

void TestClient::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void TestClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ------------------------------------------------------------------ TestLoop

struct TestLoop::Deferred {
  uv_timer_t timer{};
  std::function<void()> fn;
  TestLoop* owner = nullptr;
};

TestLoop::TestLoop() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wake_, [](uv_async_t*) {});
}

TestLoop::~TestLoop() {
  if (!closed_) close();
}

void TestLoop::wake() { uv_async_send(&wake_); }

bool TestLoop::run_until(const std::function<bool()>& pred, uint64_t timeout_ms) {
  bool timed_out = false;
  qp::uv::Timer timer;
  uv_timer_init(&loop_, timer.get());
  timer.get()->data = &timed_out;
  uv_timer_start(
      timer.get(), [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, timeout_ms, 0);
  while (!pred() && !timed_out) uv_run(&loop_, UV_RUN_ONCE);
  return pred();
}

bool TestLoop::run_client(const std::function<void()>& client, uint64_t timeout_ms) {
  std::atomic<bool> done{false};
  std::thread t([&] {
    client();
    done = true;
    wake();
  });
  bool ok = run_until([&] { return done.load(); }, timeout_ms);
  t.join();
  return ok;
}

void TestLoop::defer(std::function<void()> fn, uint64_t delay_ms) {
  auto* d = new Deferred;
  d->fn = std::move(fn);
  d->owner = this;
  deferred_.push_back(d);
  uv_timer_init(&loop_, &d->timer);
  d->timer.data = d;
  uv_timer_start(
      &d->timer,
      [](uv_timer_t* t) {
        auto* dd = static_cast<Deferred*>(t->data);
        auto& list = dd->owner->deferred_;
        list.erase(std::find(list.begin(), list.end(), dd));
        auto run = std::move(dd->fn);
        uv_close(reinterpret_cast<uv_handle_t*>(t),
                 [](uv_handle_t* h) { delete static_cast<Deferred*>(h->data); });
        run();
      },
      delay_ms, 0);
}

int TestLoop::close() {
  closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  // Deferred work that never ran (a test failed early) is dropped, not run.
  for (Deferred* d : deferred_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&d->timer),
             [](uv_handle_t* h) { delete static_cast<Deferred*>(h->data); });
  }
  deferred_.clear();
  for (int i = 0; i < 1000 && uv_loop_alive(&loop_); ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  return uv_loop_close(&loop_);
}

}  // namespace qp::http::test
