// Who may connect to the broker's CurveZMQ sockets: the public keys in
// broker.authorized_keys_dir, one NAME.pub file per peer (NAME is how the
// peer is named in logs). The decision is a pure function, apart from the
// directory reading (docs/deployment.md, "Remote workers").
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qp::broker {

struct AuthorizedKeys {
  // The 32 raw key bytes -> the peer's name (its file name without .pub).
  std::unordered_map<std::string, std::string> by_key;
};

struct LoadedKeys {
  AuthorizedKeys keys;
  // One message per file that could not be used (named; never its content),
  // or for the directory itself.
  std::vector<std::string> problems;
};

// Reads every NAME.pub in `dir` (other files, hidden ones and
// subdirectories are ignored). A directory that group or others may write
// is refused as a whole: anyone who can add a file there could let
// themselves in.
LoadedKeys load_authorized_keys(const std::string& dir);

struct ZapDecision {
  bool allow = false;
  const char* status_code = "400";  // ZAP (RFC 27): 200 allow, 400 deny
  std::string status_text;
  std::string peer;         // the authorised name (ZAP user id) if allowed
  std::string fingerprint;  // of the offered key (common/zmq/curve_keys.h)
};

// The ZAP decision for one handshake: mechanism "CURVE" with a 32-byte
// client key listed in `keys` -> allow; anything else -> deny.
ZapDecision decide_zap(const AuthorizedKeys& keys, std::string_view mechanism,
                       std::string_view client_key);

}  // namespace qp::broker
