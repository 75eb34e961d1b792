#include "common/status.h"

#include <array>

namespace qp {
namespace {
constexpr std::array<std::string_view, 16> kNames = {
    "ok",
    "invalid_request",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "unavailable",
    "upstream_error",
    "upstream_timeout",
    "rate_limited",
    "upstream_auth",
    "cancelled",
    "internal",
    "protocol",
    "io",
    "unauthenticated",
    "permission_denied",
};
}  // namespace

std::string_view code_name(Code code) {
  auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i] : "internal";
}

Code code_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Code>(i);
  }
  return Code::kInternal;
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  std::string s(code_name(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace qp
