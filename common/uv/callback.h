// Calling C++ from libuv callbacks.
//
// An exception must never unwind through libuv's C frames, and every
// callback needs the same two steps: find the object in handle->data, then
// call one of its members. Instead of a hand-written lambda per call site:
//
//   timer_.get()->data = this;
//   uv_timer_start(timer_.get(), uv::method<&Broker::on_tick>, ms, ms);
//
// method<M> is a plain function usable wherever libuv wants a callback: its
// handle and argument types are deduced from the callback type it is passed
// as. It does nothing when handle->data is null (the owner cleared it before
// closing the handle), passes the callback's arguments after the handle to M
// when M takes them (M may also take none), and logs anything M throws.
#pragma once

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

namespace qp::uv {

namespace detail {
void log_callback_exception(const char* where, const char* what) noexcept;

template <typename M>
struct ClassOf;
template <typename C, typename T>
struct ClassOf<T C::*> {
  using type = C;
};
}  // namespace detail

// Runs f; logs and swallows any exception it throws (the event is
// "callback_exception" with `in` = where).
template <typename F>
void guarded(const char* where, F&& f) noexcept {
  try {
    std::forward<F>(f)();
  } catch (const std::exception& e) {
    detail::log_callback_exception(where, e.what());
  } catch (...) {
    detail::log_callback_exception(where, "unknown exception");
  }
}

template <auto Method, typename H, typename... Args>
void method(H* handle, Args... args) noexcept {
  using C = typename detail::ClassOf<decltype(Method)>::type;
  auto* self = static_cast<C*>(handle->data);
  if (self == nullptr) return;
  guarded(__PRETTY_FUNCTION__, [&] {
    if constexpr (std::is_invocable_v<decltype(Method), C*, Args...>) {
      std::invoke(Method, self, args...);
    } else {
      std::invoke(Method, self);
    }
  });
}

}  // namespace qp::uv
