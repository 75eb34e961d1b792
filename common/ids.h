// Random identifiers: request ids, instance ids, UUIDv4 for upstream headers.
// Not for secrets (uses a per-thread mt19937_64 seeded from std::random_device).
#pragma once

#include <string>

namespace qp::ids {

// n lower-case hex characters.
std::string random_hex(size_t n);
// RFC 4122 version 4 UUID, lower-case.
std::string uuid4();

}  // namespace qp::ids
