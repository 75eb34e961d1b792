// Request handling of http::Server over real sockets: plain responses,
// keep-alive, pipelining, request bodies, 100-continue and error responses.
#include "common/http/server.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/http/server_fixture.h"
#include "tests/unit/http/test_client.h"

using qp::http::Exchange;
using qp::http::Request;
using qp::http::ServerOptions;
using qp::http::test::ClientResponse;
using qp::http::test::get;
using qp::http::test::ServerFixture;
using qp::http::test::TestClient;

namespace {

// Responds "<METHOD> <path> q=<x> body=<body>".
void echo(Exchange ex) {
  const Request& r = ex.request();
  std::string body = r.method + " " + r.path + " q=" + r.query_param("x") + " body=" + r.body;
  ex.respond(200, {{"Content-Type", "text/plain"}}, std::move(body));
}

}  // namespace

TEST_CASE("server answers GET and POST with Content-Length", "[http][server]") {
  ServerFixture f;
  f.start({}, echo);
  std::optional<ClientResponse> a, b;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/hello?x=1"));
    a = c.read_response();
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    b = c.read_response();
  }));
  REQUIRE(a);
  CHECK(a->status == 200);
  CHECK(a->body == "GET /hello q=1 body=");
  CHECK(a->header("content-length") == std::to_string(a->body.size()));
  CHECK(a->header("content-type") == "text/plain");
  CHECK_FALSE(a->header("connection"));
  CHECK(a->keep_alive);
  REQUIRE(b);
  CHECK(b->body == "POST /echo q= body=abc");
  CHECK(f.finish() == 0);
}

TEST_CASE("server keeps a connection alive across requests", "[http][server]") {
  ServerFixture f;
  std::vector<uint64_t> conn_ids;
  std::vector<size_t> conn_counts;
  f.start({}, [&](Exchange ex) {
    conn_ids.push_back(ex.request().connection_id);
    conn_counts.push_back(f.server->connection_count());
    echo(ex);
  });
  std::vector<std::string> bodies;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    for (int i = 0; i < 4; ++i) {
      c.send(get("/r" + std::to_string(i)));
      auto r = c.read_response();
      if (!r) return;
      bodies.push_back(r->body);
    }
  }));
  REQUIRE(bodies.size() == 4);
  CHECK(bodies[3] == "GET /r3 q= body=");
  REQUIRE(conn_ids.size() == 4);
  CHECK(std::all_of(conn_ids.begin(), conn_ids.end(),
                    [&](uint64_t id) { return id == conn_ids[0]; }));
  CHECK(std::all_of(conn_counts.begin(), conn_counts.end(), [](size_t n) { return n == 1; }));
  CHECK(f.finish() == 0);
}

TEST_CASE("pipelined requests are answered in order, one at a time", "[http][server]") {
  ServerFixture f;
  int outstanding = 0;
  int max_outstanding = 0;
  std::vector<std::string> dispatched;
  ServerOptions opts;
  bool sync_responses = false;
  SECTION("default queue, asynchronous responses") {}
  SECTION("queue of 2 with many requests: parsing waits for the queue to drain") {
    opts.max_pipelined_requests = 2;
  }
  SECTION("queue of 2, responses from inside the handler") {
    opts.max_pipelined_requests = 2;
    sync_responses = true;
  }
  bool in_deferred_reply = false;
  bool nested_dispatch = false;
  f.start(opts, [&](Exchange ex) {
    ++outstanding;
    max_outstanding = std::max(max_outstanding, outstanding);
    // respond() from outside a handler must not run the next handler inline.
    if (in_deferred_reply) nested_dispatch = true;
    dispatched.push_back(ex.request().path);
    auto reply = [&outstanding, &in_deferred_reply, sync_responses, ex]() mutable {
      --outstanding;
      std::string path = ex.request().path;
      in_deferred_reply = !sync_responses;
      ex.respond(200, {}, std::move(path));
      in_deferred_reply = false;
    };
    if (sync_responses) {
      reply();
    } else {
      f.loop.defer(reply);
    }
  });
  constexpr int kRequests = 40;
  std::vector<std::string> bodies;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    std::string burst;
    for (int i = 0; i < kRequests; ++i) burst += get("/p" + std::to_string(i));
    c.send(burst);  // one write: every request arrives before the first answer
    for (int i = 0; i < kRequests; ++i) {
      auto r = c.read_response();
      if (!r) return;
      bodies.push_back(r->body);
    }
  }));
  REQUIRE(bodies.size() == kRequests);
  for (int i = 0; i < kRequests; ++i) CHECK(bodies[i] == "/p" + std::to_string(i));
  CHECK(max_outstanding == 1);
  CHECK_FALSE(nested_dispatch);
  CHECK(dispatched.size() == kRequests);
  CHECK(f.finish() == 0);
}

TEST_CASE("server de-chunks a chunked request body", "[http][server]") {
  ServerFixture f;
  f.start({}, echo);
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.send("5\r\nhello\r\n");
    c.send("6\r\n world\r\n0\r\n\r\n");
    r = c.read_response();
  }));
  REQUIRE(r);
  CHECK(r->body == "POST /c q= body=hello world");
  CHECK(f.finish() == 0);
}

TEST_CASE("server sends 100 Continue before reading the body", "[http][server]") {
  ServerFixture f;
  f.start({}, echo);
  std::optional<ClientResponse> interim, final_response;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send("POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    interim = c.read_response();  // the body is sent only after this arrives
    c.send("hello");
    final_response = c.read_response();
  }));
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(final_response);
  CHECK(final_response->status == 200);
  CHECK(final_response->body == "POST /up q= body=hello");
  CHECK(f.finish() == 0);
}

TEST_CASE("100 Continue waits for the responses ahead of it", "[http][server]") {
  ServerFixture f;
  f.start({}, [&](Exchange ex) {
    // Answer later: the second request's headers are parsed meanwhile.
    f.loop.defer([ex]() mutable {
      std::string body = ex.request().path + ":" + ex.request().body;
      ex.respond(200, {}, std::move(body));
    });
  });
  std::optional<ClientResponse> first, interim, second;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/first") +
           "POST /second HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
           "Content-Length: 2\r\n\r\n");
    first = c.read_response();  // a 100 inside this response would corrupt it
    interim = c.read_response();
    c.send("ok");
    second = c.read_response();
  }));
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->body == "/first:");
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(second);
  CHECK(second->body == "/second:ok");
  CHECK(f.finish() == 0);
}

TEST_CASE("no 100 Continue when the body came with the headers", "[http][server]") {
  ServerFixture f;
  f.start({}, echo);
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send("POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
    r = c.read_response();
  }));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "POST /up q= body=hi");
  CHECK(f.finish() == 0);
}

TEST_CASE("server rejects oversized bodies with 413 and closes", "[http][server]") {
  ServerFixture f;
  int handled = 0;
  ServerOptions opts;
  opts.max_body_bytes = 16;
  f.start(opts, [&](Exchange ex) {
    ++handled;
    echo(ex);
  });
  std::string request;
  SECTION("declared Content-Length") {
    request = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x');
  }
  SECTION("declared Content-Length with Expect: the 413 comes instead of 100 Continue") {
    request = "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n";
  }
  SECTION("chunked body growing past the limit") {
    request = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 10; ++i) request += "8\r\n12345678\r\n";
    request += "0\r\n\r\n";
  }
  std::optional<ClientResponse> r;
  bool closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(request);
    r = c.read_response();
    closed = c.wait_closed();
  }));
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(r->header("connection") == "close");
  CHECK(r->header("content-type") == "application/json");
  CHECK(r->body ==
        R"({"error":{"message":"request body too large","type":"invalid_request_error"}})");
  CHECK(closed);
  CHECK(handled == 0);
  CHECK(f.finish() == 0);
}

TEST_CASE("server rejects oversized headers with 431 and closes", "[http][server]") {
  ServerFixture f;
  ServerOptions opts;
  opts.max_header_bytes = 1024;
  f.start(opts, echo);
  std::optional<ClientResponse> r;
  bool closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/", "X-Big: " + std::string(2000, 'a') + "\r\n"));
    r = c.read_response();
    closed = c.wait_closed();
  }));
  REQUIRE(r);
  CHECK(r->status == 431);
  CHECK(closed);
  CHECK(f.finish() == 0);
}

TEST_CASE("server answers malformed HTTP with 400 after earlier responses", "[http][server]") {
  ServerFixture f;
  ServerOptions opts;
  opts.error_body = [](int status, std::string_view message) {
    return "custom " + std::to_string(status) + " " + std::string(message.substr(0, 9));
  };
  opts.error_content_type = "text/plain";
  opts.default_headers = {{"Server", "qp-test"}};
  f.start(opts, [&](Exchange ex) {
    // Answer later, so the error (parsed already) must wait for this response.
    f.loop.defer([ex]() mutable { ex.respond(200, {}, "first"); });
  });
  std::optional<ClientResponse> first, error;
  bool closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/a") + "\x01garbage\r\n\r\n");
    first = c.read_response();
    error = c.read_response();
    closed = c.wait_closed();
  }));
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->body == "first");
  CHECK(first->header("server") == "qp-test");
  REQUIRE(error);
  CHECK(error->status == 400);
  CHECK(error->body == "custom 400 malformed");
  CHECK(error->header("content-type") == "text/plain");
  CHECK(error->header("server") == "qp-test");
  CHECK(error->header("connection") == "close");
  CHECK(closed);
  CHECK(f.finish() == 0);
}

TEST_CASE("HEAD responses carry headers but no body", "[http][server]") {
  ServerFixture f;
  f.start({}, [](Exchange ex) {
    if (ex.request().path == "/stream") {
      ex.start_stream(200, {});
      ex.write("abc");
      ex.end();
    } else {
      ex.respond(200, {}, "hello");
    }
  });
  std::optional<ClientResponse> head1, get1, head2, get2;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    // Any body bytes after a HEAD response would break the next response.
    c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    head1 = c.read_response(/*head_request=*/true);
    c.send(get("/"));
    get1 = c.read_response();
    c.send("HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    head2 = c.read_response(/*head_request=*/true);
    c.send(get("/stream"));
    get2 = c.read_response();
  }));
  REQUIRE(head1);
  CHECK(head1->header("content-length") == "5");
  CHECK(head1->body.empty());
  REQUIRE(get1);
  CHECK(get1->body == "hello");
  REQUIRE(head2);
  CHECK(head2->header("transfer-encoding") == "chunked");
  REQUIRE(get2);
  CHECK(get2->body == "abc");
  CHECK(f.finish() == 0);
}

TEST_CASE("Connection: close is honoured", "[http][server]") {
  enum Mode { kClientPlain, kClientStream, kHandlerAsks };
  const Mode mode = GENERATE(kClientPlain, kClientStream, kHandlerAsks);
  ServerFixture f;
  f.start({}, [&](Exchange ex) {
    if (mode == kClientStream) {
      ex.start_stream(200, {});
      ex.write("data");
      ex.end();
    } else if (mode == kHandlerAsks) {
      ex.respond(200, {{"Connection", "close"}}, "data");
    } else {
      ex.respond(200, {}, "data");
    }
  });
  const std::string extra = mode == kHandlerAsks ? "" : "Connection: close\r\n";
  std::optional<ClientResponse> r;
  bool closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/", extra));
    r = c.read_response();
    closed = c.wait_closed();
  }));
  REQUIRE(r);
  CHECK(r->body == "data");
  CHECK(r->header("connection") == "close");
  CHECK_FALSE(r->keep_alive);
  CHECK(closed);
  CHECK(f.finish() == 0);
}

TEST_CASE("HTTP/1.0 clients", "[http][server]") {
  ServerFixture f;
  f.start({}, [](Exchange ex) {
    if (ex.request().path == "/stream") {
      ex.start_stream(200, {});
      ex.write("ab");
      ex.write("cd");
      ex.end();
    } else {
      ex.respond(200, {}, "one");
    }
  });
  SECTION("without keep-alive the connection closes") {
    std::optional<ClientResponse> r;
    bool closed = false;
    REQUIRE(f.loop.run_client([&, port = f.port] {
      TestClient c;
      if (!c.connect(port)) return;
      c.send("GET / HTTP/1.0\r\n\r\n");
      r = c.read_response();
      closed = c.wait_closed();
    }));
    REQUIRE(r);
    CHECK(r->body == "one");
    CHECK(r->header("connection") == "close");
    CHECK(closed);
  }
  SECTION("with keep-alive the connection stays open") {
    std::optional<ClientResponse> r1, r2;
    REQUIRE(f.loop.run_client([&, port = f.port] {
      TestClient c;
      if (!c.connect(port)) return;
      c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      r1 = c.read_response();
      c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      r2 = c.read_response();
    }));
    REQUIRE(r1);
    CHECK(r1->header("connection") == "keep-alive");
    REQUIRE(r2);
    CHECK(r2->body == "one");
  }
  SECTION("a stream is delimited by closing the connection") {
    std::optional<ClientResponse> r;
    REQUIRE(f.loop.run_client([&, port = f.port] {
      TestClient c;
      if (!c.connect(port)) return;
      c.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      r = c.read_response();
    }));
    REQUIRE(r);
    CHECK_FALSE(r->header("transfer-encoding"));
    CHECK(r->header("connection") == "close");
    CHECK(r->body == "abcd");
  }
  CHECK(f.finish() == 0);
}

TEST_CASE("a handler that throws gets a 500 and the connection stays usable", "[http][server]") {
  ServerFixture f;
  f.start({}, [](Exchange ex) {
    if (ex.request().path == "/throw") throw std::runtime_error("boom");
    ex.respond(200, {}, "ok");
  });
  std::optional<ClientResponse> r1, r2;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/throw"));
    r1 = c.read_response();
    c.send(get("/"));
    r2 = c.read_response();
  }));
  REQUIRE(r1);
  CHECK(r1->status == 500);
  CHECK(r1->body == R"({"error":{"message":"internal server error","type":"server_error"}})");
  REQUIRE(r2);
  CHECK(r2->body == "ok");
  CHECK(f.finish() == 0);
}

TEST_CASE("framing headers from the handler are ignored", "[http][server]") {
  ServerFixture f;
  f.start({}, [](Exchange ex) {
    ex.respond(200, {{"Content-Length", "1000"}, {"Transfer-Encoding", "chunked"}}, "xyz");
  });
  std::optional<ClientResponse> r1, r2;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/") + get("/"));
    r1 = c.read_response();
    r2 = c.read_response();
  }));
  REQUIRE(r1);
  CHECK(r1->header("content-length") == "3");
  CHECK_FALSE(r1->header("transfer-encoding"));
  CHECK(r1->body == "xyz");
  REQUIRE(r2);
  CHECK(r2->body == "xyz");
  CHECK(f.finish() == 0);
}

TEST_CASE("204 responses have no body and no Content-Length", "[http][server]") {
  ServerFixture f;
  f.start({}, [](Exchange ex) { ex.respond(204, {}, "ignored"); });
  std::optional<ClientResponse> r1, r2;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/") + get("/"));
    r1 = c.read_response();
    r2 = c.read_response();
  }));
  REQUIRE(r1);
  CHECK(r1->status == 204);
  CHECK_FALSE(r1->header("content-length"));
  CHECK(r1->body.empty());
  REQUIRE(r2);
  CHECK(r2->status == 204);
  CHECK(f.finish() == 0);
}
