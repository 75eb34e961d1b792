// A server on port 0 of a fresh loop, for the http server tests.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "common/http/server.h"
#include "tests/unit/http/test_client.h"

namespace qp::http::test {

// Declared loop-first so the server is destroyed (and closed) before the loop.
struct ServerFixture {
  TestLoop loop;
  std::unique_ptr<Server> server;
  int port = 0;

  void start(ServerOptions options, Server::Handler handler) {
    server = std::make_unique<Server>(loop.get(), std::move(options), std::move(handler));
    Status s = server->listen();
    INFO(s.to_string());
    REQUIRE(s.ok());
    port = server->port();
    REQUIRE(port > 0);
  }

  // Closes the server and the loop; 0 means no libuv handle leaked.
  int finish() {
    if (server) server->close();
    server.reset();
    return loop.close();
  }
};

inline std::string get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

}  // namespace qp::http::test
