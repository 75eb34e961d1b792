#include "frontend/openai/api_error.h"

#include "common/json/writer.h"

namespace qp::frontend {

int http_status(const ApiError& e) {
  switch (e.code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kMethodNotAllowed:
      return 405;
    case Code::kPayloadTooLarge:
      return 413;
    case Code::kRateLimited:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kUpstreamAuth:
      return 503;  // our account is broken, not the client's key
    case Code::kUpstream:
      return 502;
    case Code::kProtocol:
      return 502;
    case Code::kUpstreamTimeout:
      return 504;
    case Code::kCancelled:
      return 499;
    case Code::kInternal:
    case Code::kIo:
      return 500;
  }
  return 500;
}

const char* error_type(const ApiError& e) {
  if (!e.type.empty()) return e.type.c_str();
  switch (e.code) {
    case Code::kInvalidArgument:
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
    case Code::kNotFound:
    case Code::kMethodNotAllowed:
    case Code::kPayloadTooLarge:
      return "invalid_request_error";
    case Code::kRateLimited:
      return "rate_limit_error";
    default:
      return "server_error";
  }
}

namespace {
const char* default_code(const ApiError& e) {
  switch (e.code) {
    case Code::kRateLimited:
      return "rate_limit_exceeded";
    case Code::kUnavailable:
      return "service_unavailable";
    case Code::kUpstreamAuth:
      return "upstream_auth_failed";
    case Code::kUpstream:
      return "upstream_error";
    case Code::kProtocol:
      return "upstream_error";
    case Code::kUpstreamTimeout:
      return "upstream_timeout";
    case Code::kPayloadTooLarge:
      return "request_too_large";
    case Code::kMethodNotAllowed:
      return "method_not_allowed";
    case Code::kInternal:
    case Code::kIo:
      return "internal_error";
    default:
      return nullptr;
  }
}
}  // namespace

void append_error_object(std::string* out, const ApiError& e) {
  json::Writer w(out);
  w.begin_object().key("error").begin_object();
  w.field("message", e.message);
  w.field("type", error_type(e));
  if (e.param.empty())
    w.field_null("param");
  else
    w.field("param", e.param);
  const char* code = e.error_code.empty() ? default_code(e) : e.error_code.c_str();
  if (code == nullptr)
    w.field_null("code");
  else
    w.field("code", code);
  w.end_object().end_object();
}

ApiError transport_error(int status, std::string_view message) {
  ApiError e{Code::kInvalidArgument, std::string(message), {}, {}, 0};
  if (status == 413) e.code = Code::kPayloadTooLarge;
  if (status == 503) e.code = Code::kUnavailable;
  if (status == 505) e.error_code = "http_version_not_supported";
  if (status >= 500 && status != 503 && status != 505) e.code = Code::kInternal;
  return e;
}

std::string error_json(const ApiError& e) {
  std::string s;
  append_error_object(&s, e);
  return s;
}

}  // namespace qp::frontend
