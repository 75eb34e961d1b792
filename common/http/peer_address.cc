#include "common/http/peer_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace qp::http {
namespace {

constexpr size_t kIpv4KeySize = 4;
constexpr size_t kIpv6KeySize = 8;

}  // namespace

PeerAddress classify_peer(const sockaddr_storage& addr) {
  PeerAddress out;
  const unsigned char* v4 = nullptr;
  if (addr.ss_family == AF_INET) {
    v4 = reinterpret_cast<const unsigned char*>(  // NOLINT: sockaddr casts
        &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr);
  } else if (addr.ss_family == AF_INET6) {
    const in6_addr& a6 = reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr;  // NOLINT
    if (!IN6_IS_ADDR_V4MAPPED(&a6)) {
      out.key.assign(reinterpret_cast<const char*>(a6.s6_addr), kIpv6KeySize);  // NOLINT
      out.loopback = IN6_IS_ADDR_LOOPBACK(&a6);
      return out;
    }
    v4 = a6.s6_addr + 12;
  } else {
    return out;
  }
  out.key.assign(reinterpret_cast<const char*>(v4), kIpv4KeySize);  // NOLINT
  out.loopback = v4[0] == 127;
  return out;
}

std::string address_key_text(const std::string& key) {
  char text[INET6_ADDRSTRLEN] = {};
  if (key.size() == kIpv4KeySize) {
    inet_ntop(AF_INET, key.data(), text, sizeof(text));
    return text;
  }
  if (key.size() == kIpv6KeySize) {
    unsigned char full[16] = {};
    std::memcpy(full, key.data(), kIpv6KeySize);
    inet_ntop(AF_INET6, full, text, sizeof(text));
    return std::string(text) + "/64";
  }
  return "unknown";
}

}  // namespace qp::http
