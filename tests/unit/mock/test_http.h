// Test-only helpers: run a MockServer on its own loop thread, and a tiny
// blocking HTTP/1.1 client (one request per connection) that can read a
// chunked response incrementally. Every read has a 10 s socket timeout so a
// broken test fails instead of hanging.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <uv.h>

#include "common/uv/handle.h"
#include "tools/mock-qwen/mock_server.h"

namespace qp::mock::test {

class MockHarness {
 public:
  explicit MockHarness(MockOptions options = {}) {
    std::promise<int> ready;
    auto port = ready.get_future();
    thread_ = std::thread([this, options = std::move(options), &ready]() mutable {
      uv_loop_init(&loop_);
      {
        MockServer server(&loop_, std::move(options));
        qp::Status st = server.listen();
        uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
          static_cast<MockServer*>(a->data)->close();
          uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);  // NOLINT
        });
        stop_.data = &server;
        if (!st.ok()) {
          server.close();
          uv_close(reinterpret_cast<uv_handle_t*>(&stop_), nullptr);  // NOLINT
        }
        ready.set_value(st.ok() ? server.port() : -1);
        uv_run(&loop_, UV_RUN_DEFAULT);
      }
      qp::uv::close_loop(&loop_);
    });
    port_ = port.get();
    if (port_ <= 0) {
      thread_.join();
      throw std::runtime_error("mock did not start");
    }
  }
  ~MockHarness() {
    uv_async_send(&stop_);
    thread_.join();
  }
  MockHarness(const MockHarness&) = delete;
  MockHarness& operator=(const MockHarness&) = delete;

  int port() const { return port_; }

 private:
  uv_loop_t loop_{};
  uv_async_t stop_{};
  std::thread thread_;
  int port_ = 0;
};

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return {};
  }
};

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {  // NOLINT
      throw std::runtime_error("connect failed");
    }
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void send_request(const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& body) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    req += body;
    size_t off = 0;
    while (off < req.size()) {
      ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<size_t>(n);
    }
  }

  // Reads the status line and headers.
  Response read_head() {
    Response r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) fill();
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    r.status = std::atoi(status_line.substr(9, 3).c_str());
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(name, value);
      pos = e + 2;
    }
    chunked_ = r.header("transfer-encoding") == "chunked";
    content_length_ = chunked_ ? 0 : std::strtoull(r.header("content-length").c_str(), nullptr, 10);
    return r;
  }

  // Next piece of a chunked body; false after the terminating chunk.
  bool next_chunk(std::string* out) {
    size_t eol;
    while ((eol = buf_.find("\r\n")) == std::string::npos) fill();
    size_t len = std::strtoull(buf_.substr(0, eol).c_str(), nullptr, 16);
    while (buf_.size() < eol + 2 + len + 2) fill();
    out->assign(buf_, eol + 2, len);
    buf_.erase(0, eol + 2 + len + 2);
    return len > 0;
  }

  // Reads the chunked body until `needle` appears in what was read; returns it all.
  std::string read_until(const std::string& needle) {
    std::string body, piece;
    while (body.find(needle) == std::string::npos) {
      if (!next_chunk(&piece)) throw std::runtime_error("stream ended before: " + needle);
      body += piece;
    }
    return body;
  }

  std::string read_rest_chunked() {
    std::string body, piece;
    while (next_chunk(&piece)) body += piece;
    return body;
  }

  Response read_response() {
    Response r = read_head();
    if (chunked_) {
      r.body = read_rest_chunked();
    } else {
      while (buf_.size() < content_length_) fill();
      r.body = buf_.substr(0, content_length_);
      buf_.erase(0, content_length_);
    }
    return r;
  }

  // True if the server closed the connection (EOF) before `timeout_s`.
  bool reads_eof() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0;
  }

 private:
  void fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) throw std::runtime_error("connection closed or timed out");
    buf_.append(tmp, static_cast<size_t>(n));
  }

  int fd_ = -1;
  std::string buf_;
  bool chunked_ = false;
  size_t content_length_ = 0;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline Response http(int port, const std::string& method, const std::string& target,
                     const HeaderList& headers = {}, const std::string& body = "") {
  Client c(port);
  c.send_request(method, target, headers, body);
  return c.read_response();
}

}  // namespace qp::mock::test
