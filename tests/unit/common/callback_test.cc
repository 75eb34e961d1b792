// uv::method and uv::guarded (common/uv/callback.h): a member is called on the
// object in handle->data with the callback's arguments, nothing is called once
// data is cleared, and an exception stops at the callback.
#include "common/uv/callback.h"

#include <stdexcept>

#include <catch2/catch.hpp>

#include "common/uv/handle.h"

namespace {

struct Counter {
  int ticks = 0;
  int throws = 0;
  void tick() { ++ticks; }
  void tick_then_throw() {
    ++throws;
    throw std::runtime_error("boom");
  }
  int statuses = 0;
  void on_fs_poll(int status, const uv_stat_t*, const uv_stat_t*) { statuses += status == 0; }
};

}  // namespace

TEST_CASE("uv::method calls the member on handle->data, guarded", "[uv]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    Counter counter;
    qp::uv::Timer plain, throwing, cleared;
    for (auto* t : {plain.get(), throwing.get(), cleared.get()}) {
      uv_timer_init(&loop, t);
      t->data = &counter;
    }
    uv_timer_start(plain.get(), qp::uv::method<&Counter::tick>, 0, 0);
    uv_timer_start(throwing.get(), qp::uv::method<&Counter::tick_then_throw>, 0, 0);
    uv_timer_start(cleared.get(), qp::uv::method<&Counter::tick>, 0, 0);
    cleared.get()->data = nullptr;  // as an owner does before closing
    // The throwing member must not unwind through uv_run.
    CHECK_NOTHROW(uv_run(&loop, UV_RUN_DEFAULT));
    CHECK(counter.ticks == 1);
    CHECK(counter.throws == 1);
  }
  CHECK(qp::uv::close_loop(&loop) == 0);
}

TEST_CASE("uv::method passes the callback's arguments after the handle", "[uv]") {
  Counter counter;
  uv_fs_poll_t handle{};
  handle.data = &counter;
  uv_fs_poll_cb cb = qp::uv::method<&Counter::on_fs_poll>;
  uv_stat_t st{};
  cb(&handle, 0, &st, &st);
  cb(&handle, -2, &st, &st);
  CHECK(counter.statuses == 1);
}

TEST_CASE("uv::guarded runs the body and stops exceptions", "[uv]") {
  int ran = 0;
  qp::uv::guarded("test", [&] { ++ran; });
  CHECK_NOTHROW(qp::uv::guarded("test", [&] {
    ++ran;
    throw 42;
  }));
  CHECK(ran == 2);
}
