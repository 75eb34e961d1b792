// Client API keys (docs/configuration.md, "Client keys"): the keys file, the
// hashing of keys and the constant-time lookup. Pure, no I/O (the frontend
// reads the file, `qwenproxy keys` writes it).
//
// A key is "qp-" followed by 64 lower-case hex characters (256 random bits
// from OpenSSL's RAND_bytes). Only its SHA-256 is stored. A fast hash is
// enough: a slow KDF (scrypt, argon2) protects guessable passwords, but a
// 256-bit random key cannot be brute-forced from its hash at any speed, and
// a KDF would cost milliseconds of CPU on every request. The key's id is the
// first 8 hex characters of the hash: not secret, shown by `keys list` and
// in logs.
//
// The file (TOML):
//
//   [[keys]]
//   name = "ci"                      # unique, 1-64 of [A-Za-z0-9._-]
//   hash = "sha256:<64 hex>"
//   created = "2026-12-05T09:07:35Z" # optional, informational
//   rpm = 60                         # requests per minute, 0 = unlimited
//   tpm = 100000                     # tokens per minute, 0 = unlimited
//   concurrency = 4                  # requests in flight, 0 = unlimited
//   models = ["qwen3-max"]           # allowed models, empty = all
//
// Errors name the file and the entry, never a hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::keys {

inline constexpr std::string_view kKeyPrefix = "qp-";
inline constexpr size_t kKeyHexChars = 64;
inline constexpr size_t kIdChars = 8;
// More entries than this is not a hand-managed key list (and lookup is linear).
inline constexpr size_t kMaxKeys = 10'000;

using Digest = std::array<unsigned char, 32>;

struct ClientKey {
  std::string name;
  Digest hash{};
  std::string created;  // informational text, as written
  uint64_t rpm = 0;
  uint64_t tpm = 0;
  uint64_t concurrency = 0;
  std::vector<std::string> models;  // empty = every model

  // The non-secret id: first kIdChars hex characters of the hash.
  std::string id() const;
  bool allows_model(std::string_view model) const;
};

// A new random key (RAND_bytes); kInternal if the RNG fails.
Result<std::string> generate_key();
Digest hash_key(std::string_view key);
std::string digest_hex(const Digest& d);
// 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'.
bool valid_key_name(std::string_view name);

// Parses a keys file. An empty text is a valid file with no keys.
Result<std::vector<ClientKey>> parse_keys_toml(std::string_view text, const std::string& origin);
// Renders `keys` as a keys file with `comment` as '#' lines at the top.
// parse_keys_toml(render_keys_toml(k)) == k.
std::string render_keys_toml(const std::vector<ClientKey>& keys, std::string_view comment);

// The set of valid keys, looked up in constant time with respect to the
// presented key: its hash is compared with every entry's by CRYPTO_memcmp,
// without stopping at a match.
class KeyStore {
 public:
  KeyStore() = default;
  explicit KeyStore(std::vector<ClientKey> keys) : keys_(std::move(keys)) {}

  // The entry for `presented`, or nullptr. Only keys with the "qp-" prefix
  // can match. The pointer is valid until the store is replaced.
  const ClientKey* find(std::string_view presented) const;
  const std::vector<ClientKey>& keys() const { return keys_; }

 private:
  std::vector<ClientKey> keys_;
};

}  // namespace qp::keys
