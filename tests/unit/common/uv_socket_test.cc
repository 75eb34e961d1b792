// UvSocket (common/zmq/uv_socket.h): a drain is bounded, and what is left
// is delivered on later loop turns without a new ZMQ_FD edge.
#include "common/zmq/uv_socket.h"

#include <catch2/catch.hpp>

using qp::zmqx::Frames;
using qp::zmqx::UvSocket;

TEST_CASE("UvSocket yields after kDrainBudget messages and resumes without a new edge",
          "[zmq][uv]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    zmq::context_t ctx(1);
    zmq::socket_t rx(ctx, zmq::socket_type::pair);
    qp::zmqx::set_common_options(rx);
    rx.bind("inproc://uv-socket-drain");
    zmq::socket_t tx(ctx, zmq::socket_type::pair);
    qp::zmqx::set_common_options(tx);
    tx.connect("inproc://uv-socket-drain");
    // All queued before the loop runs: there is one edge at most, for all.
    constexpr int kMessages = 3 * UvSocket::kDrainBudget + 17;
    for (int i = 0; i < kMessages; ++i) {
      REQUIRE(tx.send(zmq::buffer(std::to_string(i)), zmq::send_flags::dontwait));
    }
    int received = 0;
    bool in_order = true;
    UvSocket sock(&loop, std::move(rx), [&](Frames&& f) {
      in_order = in_order && f.size() == 1 && f[0].to_string() == std::to_string(received);
      ++received;
    });
    CHECK(sock.caught_up_ms() == 0);
    REQUIRE(sock.start().ok());
    std::vector<int> per_turn;
    for (int turn = 0; turn < 100 && received < kMessages; ++turn) {
      const int before = received;
      uv_run(&loop, UV_RUN_NOWAIT);
      per_turn.push_back(received - before);
    }
    CHECK(received == kMessages);
    CHECK(in_order);
    for (int n : per_turn) CHECK(n <= UvSocket::kDrainBudget);
    CHECK(per_turn.size() >= 4);  // 3 full turns and the rest
    // The last drain found the socket empty: caught up, nothing readable.
    CHECK_FALSE(sock.readable());
    CHECK(sock.caught_up_ms() == uv_now(&loop));
    sock.close();
    tx.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
