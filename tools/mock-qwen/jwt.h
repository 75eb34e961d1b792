// HS256 JSON Web Tokens shaped like chat.qwen.ai's: header
// {"alg":"HS256","typ":"JWT"}, payload
// {"id":…,"last_password_change":…,"exp":…}. Used by the mock to issue and
// check tokens, and by the launcher to mint test tokens. Pure functions, no
// I/O; library qp_mock_jwt (OpenSSL + simdjson).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::mock {

// HS256 JWT with payload {"id":user_id,"last_password_change":<now>,"exp":exp_unix_s}.
// Segments are base64url without padding.
std::string mint_jwt(std::string_view secret, std::string_view user_id, int64_t exp_unix_s);

// Verifies structure, algorithm, signature and expiry (expired when
// now_unix_s >= exp); returns the payload's "id". Error messages (never
// containing the token): "malformed token", "bad signature", "token expired".
// Codes: kInvalidArgument for malformed, kUpstreamAuth for the other two.
qp::Result<std::string> verify_jwt(std::string_view secret, std::string_view token,
                                   int64_t now_unix_s);

// base64url lives in common/jwt.h (qp::jwt::base64url_encode/_decode).

}  // namespace qp::mock
