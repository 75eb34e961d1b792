// Status and Result<T>: the error model for every parse, decode, validate and
// I/O function (LevelDB Status, Envoy StatusOr). Result<T> mirrors the surface
// of std::expected (has_value/value/error) so it can be swapped later; GCC 12
// in C++20 mode has no std::expected.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace qp {

// Error classes. The wire protocol carries these as their string names
// (code_name), so never rename one; add new ones at the end.
enum class Code {
  kOk = 0,
  kInvalidArgument,   // bad client input (400)
  kNotFound,          // unknown route or model (404)
  kMethodNotAllowed,  // 405
  kPayloadTooLarge,   // 413
  kUnavailable,       // no capacity, queue full or queue timeout (503)
  kUpstream,          // upstream answered with an error or garbage (502)
  kUpstreamTimeout,   // upstream connect/first-byte/idle timeout (504)
  kRateLimited,       // upstream rate limit (429)
  kUpstreamAuth,      // upstream rejected the account's credentials
  kCancelled,         // the client went away
  kInternal,          // a bug or an unexpected local failure (500)
  kProtocol,          // malformed wire message between our processes
  kIo,                // local I/O failure (sockets, files)
  kUnauthenticated,   // the client's API key is missing or wrong (401)
  kPermissionDenied,  // the client's key may not do this, e.g. use that model (403)
};

std::string_view code_name(Code code);
// Inverse of code_name. Unknown names map to kInternal.
Code code_from_name(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status error(Code code, std::string message) { return Status(code, std::move(message)); }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design, like expected
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: REQUIRES: !status.ok()

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Status& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace qp
