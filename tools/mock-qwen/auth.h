// Caller identification for the mock ([MOCK DECISION]; docs/mock-qwen.md,
// "Auth"): a request is signed in when either "Authorization: Bearer <jwt>" or
// the "token" cookie carries a valid, unexpired JWT signed with the mock's
// secret; with neither it is a guest, owned by its bx-umidtoken. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/server.h"

namespace qp::mock {

struct AuthInfo {
  enum class Kind : uint8_t {
    kGuest,    // no token at all
    kUser,     // a valid JWT; user_id is its "id"
    kInvalid,  // a token was sent but none is valid (expired, bad signature, malformed)
  };
  Kind kind = Kind::kGuest;
  std::string user_id;  // kUser only
  std::string error;    // kInvalid only: "token expired", "bad signature", "malformed token"
};

AuthInfo authenticate(const http::Headers& headers, std::string_view secret, int64_t now_s);

// Value of cookie `name` in a Cookie header value, or empty.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

// Stable owner id for a guest: "guest-" + 16 hex of sha256(bx-umidtoken), so
// the device token itself is never stored or echoed; "guest-anonymous" when
// the header is missing.
std::string guest_owner_id(std::string_view umidtoken);

// Lower-case hex SHA-256 (also the password form of /api/v1/auths/signin).
std::string sha256_hex(std::string_view data);

// The first 16 hex digits of sha256_hex(token): what records keep of a token.
std::string token_fingerprint(std::string_view token);

}  // namespace qp::mock
