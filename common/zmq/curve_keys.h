// CurveZMQ key pairs and their files (docs/deployment.md, "Remote workers").
//
// A key is 32 bytes, written as 40 Z85 characters. A key file holds one key
// on its first line that is neither blank nor a `#` comment:
//   NAME.key  the secret key, mode 0600 (refused if the group or others may
//             read or write it: common/accounts/private_file.h)
//   NAME.pub  the public key, mode 0644; a copy goes into the broker's
//             authorized_keys_dir to let that peer in.
// The public key is derived from the secret one, so a process needs only its
// .key file. Error messages name the file, never its content.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::zmqx {

inline constexpr size_t kZ85KeyChars = 40;
inline constexpr size_t kCurveKeyBytes = 32;

struct CurveKeypair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// A fresh key pair (zmq_curve_keypair). kInternal if libzmq has no CURVE.
Result<CurveKeypair> generate_curve_keypair();

// The key in a key file's text: the first line that is not blank or a
// comment, trimmed, which must be 40 valid Z85 characters. `path` is only
// used in the error message.
Result<std::string> parse_key_text(std::string_view text, const std::string& path);

// Reads a public key file (any mode; a regular file of at most 4 KiB).
Result<std::string> load_public_key(const std::string& path);
// Reads a secret key file (private mode required) and derives its public key.
Result<CurveKeypair> load_secret_key(const std::string& path);

// What to show in logs for a public key (never a secret one): "SHA256:" and
// the first 16 hex digits of the SHA-256 of its 32 bytes. Accepts the Z85
// text or the 32 raw bytes.
std::string key_fingerprint(std::string_view key);

// The 32 raw bytes of a Z85 key (empty if it is not one).
std::string z85_to_bytes(std::string_view z85);

// The text written to NAME.key / NAME.pub by `qwenproxy curve-keys generate`.
std::string secret_key_file_text(std::string_view name, const CurveKeypair& pair);
std::string public_key_file_text(std::string_view name, const CurveKeypair& pair);

}  // namespace qp::zmqx
