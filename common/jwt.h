// Reads claims from a JSON Web Token without verifying it.
//
// The Qwen web session token is an HS256 JWT whose payload carries `exp`
// (Unix seconds). We only need the expiry, to report it and warn before it
// runs out; nobody but the issuer can verify the signature, so we do not try.
// Error messages never echo the token or any part of it.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace qp::jwt {

// Base64url-decodes the payload (the middle of the three dot-separated
// segments) and returns its top-level `exp` claim in Unix seconds. A
// fractional `exp` is truncated. Errors (kInvalidArgument): not three
// segments, bad base64url, payload not a JSON object, no `exp`, `exp` not a
// non-negative number.
Result<int64_t> expiry_unix_s(std::string_view token);

// Encodes base64url (RFC 4648 section 5) without padding.
std::string base64url_encode(std::string_view bytes);
// Decodes base64url (RFC 4648 section 5) with or without '=' padding.
// Returns false on a character outside the alphabet or an impossible length.
bool base64url_decode(std::string_view in, std::string* out);

}  // namespace qp::jwt
