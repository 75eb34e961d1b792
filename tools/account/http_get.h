// A blocking HTTP GET for `qwenproxy account status` (libcurl easy API; the
// command runs once and exits, so there is no loop to integrate with).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace qp::account_tool {

struct HttpResponse {
  long status = 0;
  std::string body;
};

// GETs `url`, following no redirects, with a total timeout. The body is
// capped at `max_body_bytes` (an error beyond). A non-empty `bearer` is sent
// as `Authorization: Bearer <bearer>` (never logged or put in an error).
// Errors are kIo with libcurl's message and the URL.
Result<HttpResponse> http_get(const std::string& url, uint64_t timeout_ms,
                              const std::string& bearer = {},
                              uint64_t max_body_bytes = 4 * 1024 * 1024);

}  // namespace qp::account_tool
