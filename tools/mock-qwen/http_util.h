// Small HTTP helpers shared by the mock's route files (mock_server*.cc).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "common/http/server.h"

namespace qp::mock {

inline int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

inline http::Headers json_headers() { return {{"content-type", "application/json"}}; }
inline http::Headers html_headers() { return {{"content-type", "text/html; charset=utf-8"}}; }

bool starts_with(std::string_view s, std::string_view prefix);
// ASCII case-insensitive; lower_prefix must be lower case.
bool starts_with_ci(std::string_view s, std::string_view lower_prefix);
// Content-Type starts with application/json (any parameters).
bool is_json_request(const http::Request& req);
// The first header with this lower-case name, or empty.
std::string header_value(const http::Request& req, std::string_view name);
// {"error": "<message>"}: the admin API's and unknown routes' error body.
std::string admin_error(std::string_view message);
// Decimal, or fallback when empty or not a number.
uint64_t parse_u64(const std::string& s, uint64_t fallback);

}  // namespace qp::mock
