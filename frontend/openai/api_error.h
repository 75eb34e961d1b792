// OpenAI-shaped errors: {"error":{"message","type","param","code"}} plus the
// HTTP status and Retry-After. One mapping from our Code to OpenAI's error
// vocabulary, used for every error the frontend returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::frontend {

struct ApiError {
  Code code = Code::kInternal;
  std::string message;
  std::string param;       // offending request parameter, empty = null
  std::string error_code;  // OpenAI `code`, empty = derived from `code`
  int64_t retry_after_s = 0;
  std::string type = {};  // OpenAI `type`, empty = derived from `code`

  static ApiError invalid(std::string param, std::string message) {
    return ApiError{Code::kInvalidArgument, std::move(message), std::move(param), {}, 0};
  }
};

int http_status(const ApiError& e);
// OpenAI `type`: e.type if set, else invalid_request_error, rate_limit_error,
// server_error, ...
const char* error_type(const ApiError& e);
// The JSON body {"error":{...}}.
std::string error_json(const ApiError& e);
// The error the HTTP server itself answers (the request never reached a
// handler): `status` is 400, 413, 431, 505, 503 or 500. 4xx and 505 (an HTTP
// version the server does not speak: the client's fault) are
// invalid_request_error; 503 and 500 are server errors.
ApiError transport_error(int status, std::string_view message);
// Appends the body of an SSE error event: {"error":{...}} (no "data: ").
void append_error_object(std::string* out, const ApiError& e);

}  // namespace qp::frontend
