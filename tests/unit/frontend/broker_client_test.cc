// BrokerClient (frontend/broker_client.h) against a broker stand-in (a
// ROUTER pumped by the test on the same thread): a stall of the frontend's
// own loop must not make it give up on the broker.
#include "frontend/broker_client.h"

#include <unistd.h>

#include <chrono>

#include <catch2/catch.hpp>

#include "common/protocol/codec.h"
#include "common/uv/handle.h"
#include "common/zmq/envelope.h"

using qp::protocol::Command;

namespace {

struct Sink final : qp::frontend::JobSink {
  int chunks = 0;
  int errors = 0;
  void on_chunk(const qp::protocol::JobChunk&) override { ++chunks; }
  void on_done(const qp::protocol::JobDone&) override {}
  void on_error(const qp::protocol::JobError&) override { ++errors; }
  void on_models(const qp::protocol::ModelList&) override {}
};

// The broker side: answers each HEARTBEAT with its own, remembers the
// frontend's routing id and the jobs it sent.
struct Broker {
  zmq::socket_t router;
  std::string peer;
  std::vector<std::string> jobs;

  explicit Broker(zmq::context_t& ctx, const std::string& endpoint)
      : router(ctx, zmq::socket_type::router) {
    qp::zmqx::set_common_options(router);
    router.bind(endpoint);
  }
  void send(Command c, const std::string& rid, const std::string& body) {
    auto frames = qp::zmqx::make_frames(c, rid, body, peer);
    REQUIRE(zmq::send_multipart(router, frames, zmq::send_flags::dontwait));
  }
  void serve() {
    for (;;) {
      qp::zmqx::Frames f;
      if (!zmq::recv_multipart(router, std::back_inserter(f), zmq::recv_flags::dontwait)) return;
      auto env = qp::zmqx::Envelope::parse(std::move(f), /*routed=*/true);
      REQUIRE(env.has_value());
      peer = std::string(env->routing_id());
      if (env->command() == Command::kHeartbeat) {
        qp::protocol::BrokerStatus st;
        st.instance = "broker-1";
        send(Command::kHeartbeat, {}, qp::protocol::encode(st));
      } else if (env->command() == Command::kJob) {
        jobs.emplace_back(env->request_id());
      }
    }
  }
};

// Runs the loop and the broker for `ms`, or until done().
template <typename Done>
bool pump(uv_loop_t* loop, Broker& broker, int ms, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    uv_run(loop, UV_RUN_NOWAIT);
    broker.serve();
    if (done()) return true;
    zmq::pollitem_t items[] = {{nullptr, uv_backend_fd(loop), ZMQ_POLLIN, 0},
                               {broker.router.handle(), 0, ZMQ_POLLIN, 0}};
    int wait = uv_backend_timeout(loop);
    zmq::poll(items, 2, std::chrono::milliseconds(wait < 0 || wait > 10 ? 10 : wait));
  }
  return done();
}

}  // namespace

TEST_CASE("broker client: a stall of the frontend's loop does not lose the broker",
          "[frontend][liveness]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    zmq::context_t ctx(1);
    Broker broker(ctx, "inproc://broker-client-stall");
    qp::frontend::BrokerClient client(&loop, ctx, "inproc://broker-client-stall",
                                      /*heartbeat_ms=*/100, /*wait_ms=*/1000,
                                      [](const std::string&) {});
    REQUIRE(client.start().ok());
    REQUIRE(pump(&loop, broker, 5000, [&] { return client.connected(); }));
    // A job that has streamed output: losing the broker would fail it.
    Sink sink;
    qp::protocol::JobRequest req;
    req.request_id = "r1";
    req.model = "qwen3-max";
    REQUIRE(client.submit(req, &sink).ok());
    REQUIRE(pump(&loop, broker, 5000, [&] { return !broker.jobs.empty(); }));
    qp::protocol::JobChunk chunk;
    chunk.content = "hello";
    broker.send(Command::kChunk, "r1", qp::protocol::encode(chunk));
    REQUIRE(pump(&loop, broker, 5000, [&] { return sink.chunks == 1; }));
    // One loop turn takes 700 ms (the liveness window is 300 ms), at its
    // end: the overdue heartbeat timer runs before any poll phase.
    qp::uv::Check stall;
    uv_check_init(&loop, stall.get());
    uv_check_start(stall.get(), [](uv_check_t* h) {
      uv_check_stop(h);
      ::usleep(700'000);
    });
    pump(&loop, broker, 800, [] { return false; });
    CHECK(sink.errors == 0);
    CHECK(client.connected());
    stall.reset();
    client.cancel("r1", "test over");
    client.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
