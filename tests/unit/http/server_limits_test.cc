// Slow and greedy clients: head and body deadlines (slowloris), the
// per-address connection limit, and the server-wide body budget. Slow clients
// are TrickleClients on the test's loop (a libuv timer sends each step), so
// no test sleeps; the deadlines are short and the assertions are on outcomes.
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/http/server.h"
#include "tests/unit/http/server_fixture.h"
#include "tests/unit/http/test_client.h"
#include "tests/unit/http/trickle_client.h"

using qp::http::Exchange;
using qp::http::ServerOptions;
using qp::http::test::ClientResponse;
using qp::http::test::get;
using qp::http::test::ServerFixture;
using qp::http::test::TestClient;
using qp::http::test::TrickleClient;

namespace {

void ok_handler(Exchange ex) { ex.respond(200, {}, "ok:" + ex.request().body); }

std::string post_head(size_t content_length, std::string_view extra = "") {
  return "POST /p HTTP/1.1\r\nHost: test\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

// A request head of about 200 bytes.
std::string long_head() { return get("/", "X-Pad: " + std::string(160, 'a') + "\r\n"); }

bool starts_with(const std::string& s, std::string_view prefix) { return s.starts_with(prefix); }

}  // namespace

TEST_CASE("slowloris: a head trickled byte by byte gets 408 at the head deadline",
          "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.idle_timeout_ms = 200;   // longer than every gap between bytes
  opts.header_timeout_ms = 50;  // much shorter than the ~1 s the head takes
  f.start(opts, ok_handler);
  TrickleClient c(f.loop.get(), f.port, TrickleClient::split(long_head(), 1), 5);
  REQUIRE(f.loop.run_until([&] { return c.closed(); }));
  INFO(c.received());
  CHECK(starts_with(c.received(), "HTTP/1.1 408 "));
  CHECK(c.received().find("request headers not received in time") != std::string::npos);
  CHECK_FALSE(c.all_sent());  // closed long before the head was complete
  CHECK(f.loop.run_until([&] { return f.server->connection_count() == 0; }));
  c.close();
  CHECK(f.finish() == 0);
}

TEST_CASE("the head deadline starts at a request's first byte, not after the last response",
          "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.header_timeout_ms = 30;
  opts.idle_timeout_ms = 10'000;
  f.start(opts, ok_handler);
  // Two whole requests 150 ms apart: the keep-alive wait between them is
  // governed by the idle timeout only.
  TrickleClient c(f.loop.get(), f.port, {get("/a"), get("/b")}, 150);
  REQUIRE(f.loop.run_until([&] {
    size_t n = 0;
    for (size_t at = c.received().find("HTTP/1.1 200"); at != std::string::npos;
         at = c.received().find("HTTP/1.1 200", at + 1))
      ++n;
    return n == 2 || c.closed();
  }));
  CHECK_FALSE(c.closed());
  c.close();
  CHECK(f.finish() == 0);
}

TEST_CASE("a body trickled too slowly gets 408 at the body deadline", "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.idle_timeout_ms = 200;
  opts.body_timeout_ms = 50;
  opts.body_min_bytes_per_s = 0;  // no allowance for size: the deadline is 50 ms
  f.start(opts, ok_handler);
  std::vector<std::string> steps{post_head(100)};
  for (int i = 0; i < 100; ++i) steps.emplace_back("x");
  TrickleClient c(f.loop.get(), f.port, steps, 5);
  REQUIRE(f.loop.run_until([&] { return c.closed(); }));
  INFO(c.received());
  CHECK(starts_with(c.received(), "HTTP/1.1 408 "));
  CHECK(c.received().find("request body not received in time") != std::string::npos);
  CHECK_FALSE(c.all_sent());
  CHECK(f.server->buffered_body_bytes() == 0);
  c.close();
  CHECK(f.finish() == 0);
}

TEST_CASE("the body deadline grows with the declared length at the minimum rate",
          "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.body_timeout_ms = 50;
  opts.body_min_bytes_per_s = 1000;  // 200 declared bytes: 200 ms more
  f.start(opts, ok_handler);
  // Half the body, then nothing: the deadline is 250 ms after the head.
  TrickleClient c(f.loop.get(), f.port, {post_head(200) + std::string(100, 'x')}, 1000);
  REQUIRE(f.loop.run_until([&] { return c.closed(); }));
  CHECK(starts_with(c.received(), "HTTP/1.1 408 "));
  CHECK(c.closed_ms() - c.first_step_ms() >= 250);
  c.close();
  CHECK(f.finish() == 0);
}

TEST_CASE("a body that arrives in time is served", "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.header_timeout_ms = 500;
  opts.body_timeout_ms = 500;
  f.start(opts, ok_handler);
  TrickleClient c(f.loop.get(), f.port, {post_head(6), "abc", "def"}, 10);
  REQUIRE(f.loop.run_until([&] { return c.received().find("ok:abcdef") != std::string::npos; }));
  CHECK(starts_with(c.received(), "HTTP/1.1 200 "));
  c.close();
  CHECK(f.finish() == 0);
}

TEST_CASE("connections over the per-address limit get 503 with Retry-After", "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.max_connections_per_address = 2;
  opts.loopback_exempt = false;  // the test clients are all 127.0.0.1
  f.start(opts, ok_handler);
  TestClient a, b, c, d;
  std::optional<ClientResponse> ra, rb, rc, rd;
  bool c_closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    if (!a.connect(port) || !b.connect(port) || !c.connect(port)) return;
    a.send(get("/"));
    ra = a.read_response();
    b.send(get("/"));
    rb = b.read_response();
    rc = c.read_response();  // refused without a request
    c_closed = c.wait_closed();
  }));
  REQUIRE(ra);
  CHECK(ra->status == 200);
  REQUIRE(rb);
  CHECK(rb->status == 200);
  REQUIRE(rc);
  CHECK(rc->status == 503);
  CHECK(rc->header("retry-after") == "1");
  CHECK(rc->body ==
        R"({"error":{"message":"too many connections from this address","type":"server_error"}})");
  CHECK(c_closed);
  // A slot comes back when a connection closes.
  a.close();
  REQUIRE(f.loop.run_until([&] { return f.server->connection_count() == 1; }));
  REQUIRE(f.loop.run_client([&, port = f.port] {
    if (!d.connect(port)) return;
    d.send(get("/"));
    rd = d.read_response();
  }));
  REQUIRE(rd);
  CHECK(rd->status == 200);
  CHECK(f.finish() == 0);
}

TEST_CASE("loopback clients are exempt from the per-address limit by default", "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.max_connections_per_address = 1;
  f.start(opts, ok_handler);
  std::vector<int> statuses;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient clients[3];
    for (auto& c : clients) {
      if (!c.connect(port)) return;
    }
    for (auto& c : clients) {
      c.send(get("/"));
      auto r = c.read_response();
      statuses.push_back(r ? r->status : 0);
    }
  }));
  CHECK(statuses == std::vector<int>{200, 200, 200});
  CHECK(f.finish() == 0);
}

TEST_CASE("the body budget refuses new bodies with 503 while partial bodies hold it",
          "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.max_buffered_body_bytes = 1000;
  f.start(opts, ok_handler);
  // Holds a partial body: the whole declared length is reserved.
  TrickleClient holder(f.loop.get(), f.port, {post_head(800) + std::string(100, 'x')}, 10'000);
  REQUIRE(f.loop.run_until([&] { return f.server->buffered_body_bytes() == 800; }));
  std::optional<ClientResponse> refused, fits;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(post_head(300, "Expect: 100-continue\r\n"));
    refused = c.read_response();  // instead of 100 Continue
    TestClient d;
    if (!d.connect(port)) return;
    d.send(post_head(200) + std::string(200, 'y'));
    fits = d.read_response();
  }));
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->header("retry-after") == "1");
  CHECK(refused->body.find("busy receiving other request bodies") != std::string::npos);
  REQUIRE(fits);
  CHECK(fits->status == 200);
  CHECK(f.server->buffered_body_bytes() == 800);  // only the holder
  holder.close();  // a client that goes away gives its reservation back
  CHECK(f.loop.run_until([&] { return f.server->buffered_body_bytes() == 0; }));
  CHECK(f.finish() == 0);
}

TEST_CASE("the body budget is given back on completion, dispatch, errors and timeouts",
          "[http][limits]") {
  ServerFixture f;
  ServerOptions opts;
  opts.max_buffered_body_bytes = 1000;
  opts.body_timeout_ms = 50;
  opts.body_min_bytes_per_s = 0;
  f.start(opts, ok_handler);
  std::optional<ClientResponse> chunked_over, bad_chunk, piped1, piped2;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    // Chunks are reserved as their size lines arrive: 0x258 (600) fits, the
    // next 0x258 does not.
    TestClient a;
    if (!a.connect(port)) return;
    a.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
           std::string(600, 'a') + "\r\n258\r\n");
    chunked_over = a.read_response();
    // A malformed chunk after a reserved one.
    TestClient b;
    if (!b.connect(port)) return;
    b.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" +
           std::string(16, 'b') + "\r\nzz\r\n");
    bad_chunk = b.read_response();
    // Pipelined requests: each is counted until it is dispatched.
    TestClient c;
    if (!c.connect(port)) return;
    c.send(post_head(3) + "one" + post_head(3) + "two");
    piped1 = c.read_response();
    piped2 = c.read_response();
  }));
  REQUIRE(chunked_over);
  CHECK(chunked_over->status == 503);
  REQUIRE(bad_chunk);
  CHECK(bad_chunk->status == 400);
  REQUIRE(piped1);
  CHECK(piped1->body == "ok:one");
  REQUIRE(piped2);
  CHECK(piped2->body == "ok:two");
  CHECK(f.server->buffered_body_bytes() == 0);
  // A body that times out gives its reservation back too.
  TrickleClient slow(f.loop.get(), f.port, {post_head(500) + "x"}, 10'000);
  REQUIRE(f.loop.run_until([&] { return slow.closed(); }));
  CHECK(starts_with(slow.received(), "HTTP/1.1 408 "));
  CHECK(f.server->buffered_body_bytes() == 0);
  slow.close();
  CHECK(f.finish() == 0);
}

TEST_CASE("closing the server gives every reservation back", "[http][limits]") {
  ServerFixture f;
  f.start({}, ok_handler);
  TrickleClient a(f.loop.get(), f.port, {post_head(5000) + "x"}, 10'000);
  TrickleClient b(f.loop.get(), f.port, {post_head(7000) + "y"}, 10'000);
  REQUIRE(f.loop.run_until([&] { return f.server->buffered_body_bytes() == 12'000; }));
  f.server->close();
  CHECK(f.server->buffered_body_bytes() == 0);
  a.close();
  b.close();
  CHECK(f.finish() == 0);
}
