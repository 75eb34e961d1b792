// Anthropic-shaped errors for /v1/messages: the same ApiError the OpenAI
// routes use, rendered as {"type":"error","error":{"type":…,"message":…}}
// with Anthropic's HTTP statuses. One mapping, used for every error an
// Anthropic route answers (before the stream, and as the SSE `error` event).
//
//   400 invalid_request_error   401 authentication_error  403 permission_error
//   404 not_found_error         405 invalid_request_error 413 request_too_large
//   429 rate_limit_error        529 overloaded_error (no account can serve:
//   Code::kUnavailable, kUpstreamAuth)   500/502/504 api_error
#pragma once

#include <string>

#include "frontend/openai/api_error.h"

namespace qp::frontend::anthropic {

int status_code(const ApiError& e);
const char* error_type_name(const ApiError& e);
// {"type":"error","error":{"type":…,"message":…}}
void append_error_json(std::string* out, const ApiError& e);
std::string error_body(const ApiError& e);

}  // namespace qp::frontend::anthropic
