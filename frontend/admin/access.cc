#include "frontend/admin/access.h"

#include <arpa/inet.h>

#include <openssl/crypto.h>

#include "common/strings.h"

namespace qp::frontend::admin {
namespace {

std::string_view bearer_token(const std::string* authorization) {
  if (authorization == nullptr) return {};
  return strings::auth_credentials(*authorization, "Bearer");
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (strings::iequals(host, "localhost")) return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

AdminAccess::AdminAccess(std::string admin_key, std::string_view listen_host)
    : key_(std::move(admin_key)) {
  if (!key_.empty() || is_loopback_host(listen_host)) {
    enabled_ = true;
    return;
  }
  why_disabled_ =
      "The admin API and dashboard are off: no admin key is configured (frontend.admin_key or "
      "QP_ADMIN_KEY) and the frontend listens on " +
      std::string(listen_host) + ", which is not a loopback address.";
}

bool AdminAccess::is_admin_key(const std::string* authorization) const {
  if (key_.empty()) return false;
  std::string_view given = bearer_token(authorization);
  return given.size() == key_.size() && CRYPTO_memcmp(given.data(), key_.data(), key_.size()) == 0;
}

bool AdminAccess::check(const http::Request& req, ApiError* error) const {
  if (!enabled_) {
    *error = ApiError{Code::kNotFound, why_disabled_, {}, "admin_disabled", 0};
    return false;
  }
  if (key_.empty()) return true;
  const std::string* auth = req.header("authorization");
  if (is_admin_key(auth)) return true;
  *error = ApiError{
      Code::kUnauthenticated,
      auth == nullptr ? "The admin API needs the admin key: send Authorization: Bearer <admin key>."
                      : "Incorrect admin key provided.",
      {},
      "invalid_api_key",
      0};
  return false;
}

}  // namespace qp::frontend::admin
