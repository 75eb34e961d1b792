#include "frontend/anthropic/errors.h"

#include "common/json/writer.h"

namespace qp::frontend::anthropic {

int status_code(const ApiError& e) {
  switch (e.code) {
    case Code::kUnavailable:
    case Code::kUpstreamAuth:
      return 529;
    default:
      return frontend::http_status(e);
  }
}

const char* error_type_name(const ApiError& e) {
  switch (e.code) {
    case Code::kInvalidArgument:
    case Code::kMethodNotAllowed:
      return "invalid_request_error";
    case Code::kUnauthenticated:
      return "authentication_error";
    case Code::kPermissionDenied:
      return "permission_error";
    case Code::kNotFound:
      return "not_found_error";
    case Code::kPayloadTooLarge:
      return "request_too_large";
    case Code::kRateLimited:
      return "rate_limit_error";
    case Code::kUnavailable:
    case Code::kUpstreamAuth:
      return "overloaded_error";
    default:
      return "api_error";
  }
}

void append_error_json(std::string* out, const ApiError& e) {
  json::Writer w(out);
  w.begin_object().field("type", "error").key("error").begin_object();
  w.field("type", error_type_name(e)).field("message", e.message);
  w.end_object().end_object();
}

std::string error_body(const ApiError& e) {
  std::string s;
  append_error_json(&s, e);
  return s;
}

}  // namespace qp::frontend::anthropic
