#include "frontend/metrics_endpoint.h"

#include <arpa/inet.h>

#include "common/metrics/text_format.h"
#include "common/strings.h"

namespace qp::frontend {
namespace {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Length is not secret; the content comparison does not stop early.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (strings::iequals(host, "localhost")) return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  }
  return false;
}

bool check_admin_access(std::string_view admin_key, bool loopback_listener,
                        const std::string* authorization, ApiError* err) {
  if (admin_key.empty()) {
    if (loopback_listener) return true;
    *err = ApiError{Code::kNotFound,
                    "This endpoint is disabled: the frontend listens on a non-loopback address "
                    "and no admin key is set (frontend.admin_key / QP_ADMIN_KEY).",
                    {},
                    "admin_disabled",
                    0};
    return false;
  }
  std::string_view token;
  if (authorization != nullptr) token = strings::auth_credentials(*authorization, "Bearer");
  if (!token.empty() && constant_time_equal(token, admin_key)) return true;
  *err = ApiError{Code::kUnauthenticated,
                  token.empty() ? "This endpoint needs the admin key as a Bearer token."
                                : "Incorrect admin key provided.",
                  {},
                  "invalid_api_key",
                  0};
  return false;
}

std::string metrics_text(const std::vector<protocol::MetricFamily>& own,
                         const std::vector<protocol::MetricFamily>* broker) {
  std::string out;
  out.reserve(16 * 1024);
  metrics::write_text({&own, broker}, &out);
  return out;
}

}  // namespace qp::frontend
