// Streamed (chunked) responses, client disconnects, server shutdown with
// active streams, idle timeouts and write backpressure.
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "common/http/server.h"
#include "tests/unit/http/server_fixture.h"
#include "tests/unit/http/test_client.h"

using qp::http::Exchange;
using qp::http::ServerOptions;
using qp::http::test::ClientResponse;
using qp::http::test::get;
using qp::http::test::ServerFixture;
using qp::http::test::TestClient;

TEST_CASE("streamed responses are chunked, one chunk per loop turn", "[http][stream]") {
  ServerFixture f;
  f.start({}, [&](Exchange ex) {
    ex.start_stream(200, {{"Content-Type", "text/event-stream"}});
    CHECK(ex.write("data: 1\n\n"));
    CHECK(ex.write(""));  // ignored: an empty chunk would end the body
    // The rest from later loop iterations, as a real upstream would.
    f.loop.defer([ex]() mutable {
      ex.write("data: 2\n\n");
      ex.end();
    });
  });
  std::optional<ClientResponse> r1, r2;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/s"));
    r1 = c.read_response();
    c.send(get("/s"));  // the connection is reusable after a stream
    r2 = c.read_response();
  }));
  REQUIRE(r1);
  CHECK(r1->status == 200);
  CHECK(r1->header("transfer-encoding") == "chunked");
  CHECK(r1->header("content-type") == "text/event-stream");
  CHECK_FALSE(r1->header("content-length"));
  CHECK(r1->body == "data: 1\n\ndata: 2\n\n");
  // The first write left at the end of its loop turn, not with end().
  CHECK(r1->chunks == 2);
  REQUIRE(r2);
  CHECK(r2->body == r1->body);
  CHECK(f.finish() == 0);
}

TEST_CASE("many small writes arrive intact and in order", "[http][stream]") {
  ServerFixture f;
  constexpr int kWrites = 2000;
  f.start({}, [&](Exchange ex) {
    ex.start_stream(200, {});
    for (int i = 0; i < kWrites; ++i) ex.write(std::to_string(i) + ",");
    ex.end();
  });
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    r = c.read_response();
  }));
  REQUIRE(r);
  std::string expected;
  for (int i = 0; i < kWrites; ++i) expected += std::to_string(i) + ",";
  CHECK(r->body == expected);
  CHECK(r->chunks == 1);  // the writes of one loop turn are collected into one chunk
  CHECK(f.finish() == 0);
}

TEST_CASE("end() without start_stream() sends an empty 200", "[http][stream]") {
  ServerFixture f;
  f.start({}, [](Exchange ex) { ex.end(); });
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    r = c.read_response();
  }));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.empty());
  CHECK(f.finish() == 0);
}

TEST_CASE("on_abort fires once when the client leaves mid-stream", "[http][stream]") {
  ServerFixture f;
  Exchange saved;
  int aborts = 0;
  bool alive_in_abort = true;
  bool write_in_abort = true;
  f.start({}, [&](Exchange ex) {
    saved = ex;
    ex.on_abort([&] {
      ++aborts;
      alive_in_abort = saved.alive();
      write_in_abort = saved.write("late");  // must be a no-op, not a crash
    });
    ex.start_stream(200, {});
    ex.write("first-chunk");
  });
  const bool half_close = GENERATE(false, true);
  bool closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    if (!c.read_until("first-chunk")) return;
    if (half_close) {
      c.shutdown_write();  // a half-closed client counts as gone
      closed = !c.read_response() && c.peer_closed();
    } else {
      c.close();
      closed = true;
    }
  }));
  REQUIRE(f.loop.run_until([&] { return aborts > 0; }));
  CHECK(closed);
  CHECK(aborts == 1);
  CHECK_FALSE(alive_in_abort);
  CHECK_FALSE(write_in_abort);
  // Every method is a harmless no-op on a dead exchange.
  CHECK_FALSE(saved.alive());
  CHECK_FALSE(saved.write("more"));
  saved.end();
  saved.respond(200, {}, "x");
  saved.start_stream(200, {});
  saved.on_abort([&] { ++aborts; });
  CHECK(saved.queued_bytes() == 0);
  CHECK(saved.request().method.empty());
  CHECK(f.server->connection_count() == 0);
  CHECK(f.finish() == 0);
  CHECK(aborts == 1);
}

TEST_CASE("on_abort fires when the client leaves before any response", "[http][stream]") {
  ServerFixture f;
  int aborts = 0;
  Exchange saved;
  f.start({}, [&](Exchange ex) {
    saved = ex;
    ex.on_abort([&] { ++aborts; });
  });
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
  }));  // the client closes its socket when it goes out of scope
  REQUIRE(f.loop.run_until([&] { return aborts > 0; }));
  CHECK_FALSE(saved.alive());
  CHECK(f.finish() == 0);
  CHECK(aborts == 1);
}

TEST_CASE("on_abort is not called after the response ended", "[http][stream]") {
  ServerFixture f;
  int aborts = 0;
  f.start({}, [&](Exchange ex) {
    ex.on_abort([&] { ++aborts; });
    ex.start_stream(200, {});
    ex.write("x");
    ex.end();
  });
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    r = c.read_response();
  }));
  REQUIRE(r);
  REQUIRE(f.loop.run_until([&] { return f.server->connection_count() == 0; }));
  CHECK(f.finish() == 0);
  CHECK(aborts == 0);
}

TEST_CASE("a handler that throws mid-stream closes the connection", "[http][stream]") {
  ServerFixture f;
  int aborts = 0;
  f.start({}, [&](Exchange ex) {
    ex.on_abort([&] { ++aborts; });
    ex.start_stream(200, {});
    ex.write("partial");
    throw std::runtime_error("boom");
  });
  std::optional<ClientResponse> r;
  bool saw_partial = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    saw_partial = c.read_until("partial");
    r = c.read_response();  // incomplete: the chunked body never ends
  }));
  CHECK(saw_partial);
  CHECK_FALSE(r);
  CHECK(aborts == 1);
  CHECK(f.finish() == 0);
}

TEST_CASE("close() aborts active streams and leaves no handles", "[http][stream]") {
  ServerFixture f;
  std::vector<Exchange> streams;
  int aborts = 0;
  f.start({}, [&](Exchange ex) {
    streams.push_back(ex);
    ex.on_abort([&] { ++aborts; });
    ex.start_stream(200, {});
    ex.write("tick");
  });
  std::atomic<bool> ready{false};
  std::atomic<bool> done{false};
  bool closed1 = false;
  bool closed2 = false;
  const int port = f.port;
  std::thread client([&] {
    TestClient c1;
    TestClient c2;
    bool ok = c1.connect(port) && c2.connect(port) && c1.send(get("/1")) && c2.send(get("/2")) &&
              c1.read_until("tick") && c2.read_until("tick");
    ready = ok;
    f.loop.wake();
    if (ok) {
      // The chunked body never ends: reading it runs into the server's close.
      closed1 = !c1.read_response() && c1.peer_closed();
      closed2 = !c2.read_response() && c2.peer_closed();
    }
    done = true;
    f.loop.wake();
  });
  bool got_ready = f.loop.run_until([&] { return ready.load(); });
  CHECK(streams.size() == 2);
  f.server->close();
  CHECK(aborts == 2);
  CHECK(f.server->connection_count() == 0);
  for (auto& ex : streams) CHECK_FALSE(ex.write("after close"));
  f.server->close();  // safe twice
  bool client_done = f.loop.run_until([&] { return done.load(); });
  client.join();
  CHECK(got_ready);
  CHECK(client_done);
  CHECK(closed1);
  CHECK(closed2);
  CHECK(f.finish() == 0);
}

TEST_CASE("destroying the server with active streams leaves no handles", "[http][stream]") {
  ServerFixture f;
  int aborts = 0;
  f.start({}, [&](Exchange ex) {
    ex.on_abort([&] { ++aborts; });
    ex.start_stream(200, {});
    ex.write("tick");
  });
  std::atomic<bool> ready{false};
  TestClient c;  // outlives the loop run; closed at scope end
  REQUIRE(f.loop.run_client(
      [&, port = f.port] { ready = c.connect(port) && c.send(get("/")) && c.read_until("tick"); }));
  REQUIRE(ready);
  f.server.reset();  // no close() first
  CHECK(aborts == 1);
  CHECK(f.loop.close() == 0);
}

TEST_CASE("the server can be closed from inside a handler", "[http][stream]") {
  ServerFixture f;
  int aborts = 0;
  f.start({}, [&](Exchange ex) {
    ex.on_abort([&] { ++aborts; });
    f.server->close();
  });
  bool closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    closed = c.wait_closed();
  }));
  CHECK(closed);
  CHECK(aborts == 1);
  CHECK(f.finish() == 0);
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout", "[http][stream]") {
  ServerFixture f;
  ServerOptions opts;
  opts.idle_timeout_ms = 50;
  f.start(opts, [](Exchange ex) { ex.respond(200, {}, "ok"); });
  std::optional<ClientResponse> r;
  bool closed = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    r = c.read_response();
    closed = c.wait_closed();  // the server closes it; the client only waits
  }));
  REQUIRE(r);
  CHECK(r->keep_alive);
  CHECK(closed);
  CHECK(f.server->connection_count() == 0);
  CHECK(f.finish() == 0);
}

TEST_CASE("no idle timeout while a handler owns the exchange", "[http][stream]") {
  ServerFixture f;
  ServerOptions opts;
  opts.idle_timeout_ms = 20;
  f.start(opts, [&](Exchange ex) {
    // Respond well after the idle timeout would have fired.
    f.loop.defer([ex]() mutable { ex.respond(200, {}, "late"); }, 200);
  });
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    r = c.read_response();
  }));
  REQUIRE(r);
  CHECK(r->body == "late");
  CHECK(f.finish() == 0);
}

TEST_CASE("queued_bytes reports unflushed output", "[http][stream]") {
  ServerFixture f;
  constexpr size_t kChunk = 1 << 20;
  constexpr int kChunks = 24;  // more than loopback socket buffers hold
  size_t queued_after_writes = 0;
  size_t queued_after_end = 0;
  std::promise<void> written;  // the client reads only after every write was queued
  f.start({}, [&](Exchange ex) {
    ex.start_stream(200, {});
    for (int i = 0; i < kChunks; ++i) ex.write(std::string(kChunk, static_cast<char>('a' + i)));
    queued_after_writes = ex.queued_bytes();
    ex.end();
    queued_after_end = ex.queued_bytes();
    written.set_value();
  });
  std::optional<ClientResponse> r;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    if (written.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return;
    }
    r = c.read_response();
  }));
  CHECK(queued_after_writes > 0);
  CHECK(queued_after_end == 0);  // the exchange is over: nothing to report
  REQUIRE(r);
  REQUIRE(r->body.size() == kChunk * kChunks);
  CHECK(r->body[0] == 'a');
  CHECK(r->body.back() == static_cast<char>('a' + kChunks - 1));
  CHECK(r->chunks == kChunks);
  CHECK(f.finish() == 0);
}

TEST_CASE("a default Exchange is inert", "[http][stream]") {
  Exchange ex;
  CHECK_FALSE(ex.alive());
  CHECK_FALSE(ex.write("x"));
  ex.respond(200, {}, "");
  ex.end();
  CHECK(ex.queued_bytes() == 0);
  CHECK(ex.request().path.empty());
}

TEST_CASE("stop_accepting drains: idle connections close, active streams finish",
          "[http][stream]") {
  ServerFixture f;
  std::vector<Exchange> streams;
  f.start({}, [&](Exchange ex) {
    if (ex.request().path == "/stream") {
      streams.push_back(ex);
      ex.start_stream(200, {});
      ex.write("tick;");
    } else {
      ex.respond(200, {}, "ok");
    }
  });
  std::atomic<bool> ready{false};
  std::atomic<bool> done{false};
  bool idle_closed = false;
  bool refused = false;
  std::optional<ClientResponse> streamed;
  bool stream_closed = false;
  const int port = f.port;
  std::thread client([&] {
    TestClient idle;
    TestClient active;
    bool ok = idle.connect(port) && idle.send(get("/")) && idle.read_response().has_value() &&
              active.connect(port) && active.send(get("/stream")) && active.read_until("tick;");
    ready = ok;
    f.loop.wake();
    if (ok) {
      idle_closed = idle.wait_closed();
      TestClient late;
      refused = !late.connect(port);
      streamed = active.read_response();
      stream_closed = active.wait_closed();
    }
    done = true;
    f.loop.wake();
  });
  bool got_ready = f.loop.run_until([&] { return ready.load(); });
  f.server->stop_accepting();
  CHECK(f.server->active_exchange_count() == (got_ready ? 1 : 0));
  // Finish the stream a few iterations later, as an upstream would.
  f.loop.defer([&] {
    for (auto& ex : streams) {
      ex.write("last");
      ex.end();
    }
  });
  bool client_done = f.loop.run_until([&] { return done.load(); });
  client.join();
  CHECK(got_ready);
  CHECK(client_done);
  CHECK(idle_closed);
  CHECK(refused);
  REQUIRE(streamed);
  CHECK(streamed->body == "tick;last");
  CHECK(stream_closed);
  CHECK(f.server->active_exchange_count() == 0);
  CHECK(f.finish() == 0);
}

namespace {

// Reads until the server closes; returns the errno of the last receive (0 for
// a clean FIN, ECONNRESET for a reset) and appends the bytes to *got.
int read_to_close(int fd, std::string* got) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      got->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n == 0 ? 0 : errno;
  }
}

}  // namespace

TEST_CASE("abort() resets the connection mid-stream without on_abort", "[http][stream][abort]") {
  ServerFixture f;
  Exchange saved;
  int aborts = 0;
  std::atomic<bool> client_read{false};
  bool alive_after = true;
  bool write_after = true;
  std::function<void()> poll = [&] {
    if (!client_read.load()) {
      f.loop.defer(poll, 1);  // polls the client's progress (not a sleep)
      return;
    }
    saved.abort();
    alive_after = saved.alive();
    write_after = saved.write("late");
    saved.abort();  // a second call is a no-op
  };
  f.start({}, [&](Exchange ex) {
    saved = ex;
    ex.on_abort([&] { ++aborts; });
    ex.start_stream(200, {{"Content-Type", "text/event-stream"}});
    ex.write("first-chunk");
    f.loop.defer(poll);
  });
  int err = -1;
  std::string rest;
  bool saw_first = false;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    // A pipelined second request must be dropped with the connection.
    c.send(get("/s") + get("/never"));
    saw_first = c.read_until("first-chunk");
    client_read = true;
    f.loop.wake();
    err = read_to_close(c.fd(), &rest);
  }));
  CHECK(saw_first);
  CHECK(err == ECONNRESET);
  // No terminating chunk and no second response ever arrive.
  CHECK(rest.find("0\r\n\r\n") == std::string::npos);
  CHECK(rest.find("HTTP/1.1") == std::string::npos);
  CHECK_FALSE(alive_after);
  CHECK_FALSE(write_after);
  REQUIRE(f.loop.run_until([&] { return f.server->connection_count() == 0; }));
  CHECK(f.server->active_exchange_count() == 0);
  CHECK(aborts == 0);
  CHECK(f.finish() == 0);
}

TEST_CASE("abort() before any response: the client gets a reset, no status",
          "[http][stream][abort]") {
  ServerFixture f;
  int aborts = 0;
  f.start({}, [&](Exchange ex) {
    ex.on_abort([&] { ++aborts; });
    ex.abort();  // synchronously, inside the handler
  });
  int err = -1;
  std::string got;
  REQUIRE(f.loop.run_client([&, port = f.port] {
    TestClient c;
    if (!c.connect(port)) return;
    c.send(get("/"));
    err = read_to_close(c.fd(), &got);
  }));
  CHECK(got.empty());
  CHECK(err == ECONNRESET);
  REQUIRE(f.loop.run_until([&] { return f.server->connection_count() == 0; }));
  CHECK(aborts == 0);
  CHECK(f.finish() == 0);
}
