// Listening: port 0, busy ports, IPv6, inherited sockets, connection limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "common/http/server.h"
#include "tests/unit/http/server_fixture.h"
#include "tests/unit/http/test_client.h"

using qp::Code;
using qp::Status;
using qp::http::Exchange;
using qp::http::Server;
using qp::http::ServerOptions;
using qp::http::test::ClientResponse;
using qp::http::test::get;
using qp::http::test::ServerFixture;
using qp::http::test::TestClient;
using qp::http::test::TestLoop;

namespace {

void ok_handler(Exchange ex) { ex.respond(200, {}, "ok"); }

}  // namespace

TEST_CASE("listen on a busy port fails with a message naming the address", "[http][listen]") {
  TestLoop loop;
  Server a(loop.get(), {}, ok_handler);
  REQUIRE(a.listen().ok());
  const int port = a.port();
  REQUIRE(port > 0);
  ServerOptions opts;
  opts.port = port;
  Server b(loop.get(), opts, ok_handler);
  Status s = b.listen();
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Code::kIo);
  INFO(s.message());
  CHECK(s.message().find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(s.message().find("address already in use") != std::string::npos);
  a.close();
  b.close();
  CHECK(loop.close() == 0);
}

TEST_CASE("listen rejects a host that is not an IP literal", "[http][listen]") {
  TestLoop loop;
  ServerOptions opts;
  opts.host = "localhost";
  Server s(loop.get(), opts, ok_handler);
  Status st = s.listen();
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(st.message().find("localhost") != std::string::npos);
  s.close();
  CHECK(loop.close() == 0);
}

TEST_CASE("listen twice is an error, not a second socket", "[http][listen]") {
  TestLoop loop;
  Server s(loop.get(), {}, ok_handler);
  REQUIRE(s.listen().ok());
  CHECK_FALSE(s.listen().ok());
  s.close();
  CHECK(loop.close() == 0);
}

TEST_CASE("server listens on an IPv6 literal", "[http][listen]") {
  int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (probe < 0) {
    WARN("no IPv6 support; skipped");
    return;
  }
  ::close(probe);
  ServerFixture f;
  ServerOptions opts;
  opts.host = GENERATE(std::string("::1"), std::string("[::1]"));
  f.start(opts, ok_handler);
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port, /*ipv6=*/true)) return;
    c.send(get("/"));
    r = c.read_response();
  }));
  REQUIRE(r);
  CHECK(r->body == "ok");
  CHECK(f.finish() == 0);
}

TEST_CASE("listen_fd adopts an already listening socket", "[http][listen]") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof(a);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const int bound_port = ntohs(a.sin_port);

  TestLoop loop;
  Server s(loop.get(), {}, ok_handler);  // the server now owns fd
  REQUIRE(s.listen_fd(fd).ok());
  CHECK(s.port() == bound_port);
  std::optional<ClientResponse> r;
  REQUIRE(loop.run_client([&] {
    TestClient c;
    if (!c.connect(bound_port)) return;
    c.send(get("/"));
    r = c.read_response();
  }));
  REQUIRE(r);
  CHECK(r->body == "ok");
  s.close();
  CHECK(loop.close() == 0);
}

TEST_CASE("connections over the limit get 503 and are closed", "[http][listen]") {
  ServerFixture f;
  ServerOptions opts;
  opts.max_connections = 1;
  f.start(opts, ok_handler);
  std::optional<ClientResponse> first, rejected, again;
  bool rejected_closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient a;
    if (!a.connect(port)) return;
    a.send(get("/"));
    first = a.read_response();  // a is now an open keep-alive connection
    TestClient b;
    if (!b.connect(port)) return;
    rejected = b.read_response();
    rejected_closed = b.wait_closed();
    a.send(get("/"));
    again = a.read_response();
  }));
  REQUIRE(first);
  CHECK(first->status == 200);
  REQUIRE(rejected);
  CHECK(rejected->status == 503);
  CHECK(rejected->header("connection") == "close");
  CHECK(rejected->body == R"({"error":{"message":"too many connections","type":"server_error"}})");
  CHECK(rejected_closed);
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(f.finish() == 0);
}
