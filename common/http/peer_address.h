// Client addresses as the per-address connection limit counts them
// (internal to common/http).
#pragma once

#include <sys/socket.h>

#include <string>

namespace qp::http {

struct PeerAddress {
  // Raw bytes: the 4-byte IPv4 address (also for IPv4-mapped IPv6), or the
  // first 8 bytes (the /64 prefix) of an IPv6 address, since one host
  // usually owns a whole /64. Empty for an unknown family.
  std::string key;
  bool loopback = false;  // 127.0.0.0/8, ::1 (and ::ffff:127.0.0.0/104)
};

PeerAddress classify_peer(const sockaddr_storage& addr);
// "192.0.2.7", "2001:db8::/64", or "unknown".
std::string address_key_text(const std::string& key);

}  // namespace qp::http
