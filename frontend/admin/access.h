// Who may use the operator's console: /admin/v1/*, /metrics and /dashboard
// (docs/api.md, "Admin API").
//
// Contract:
//  - With an admin key (frontend.admin_key / QP_ADMIN_KEY): enabled; check()
//    wants `Authorization: Bearer <admin_key>` (constant-time compare) and
//    answers 401 invalid_api_key otherwise. Client API keys never pass.
//  - Without one: enabled only while the frontend listens on a loopback
//    address (127.0.0.0/8, ::1, localhost); then check() passes every request.
//    Otherwise disabled: check() fails with 404 and why_disabled().
//  - is_admin_key(): for /v1, which refuses the admin key.
// Pure: no I/O; the caller logs why_disabled() once at start.
#pragma once

#include <string>
#include <string_view>

#include "common/http/server.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend::admin {

// 127.0.0.0/8, ::1 (also bracketed), "localhost".
bool is_loopback_host(std::string_view host);

class AdminAccess {
 public:
  AdminAccess(std::string admin_key, std::string_view listen_host);

  bool enabled() const { return enabled_; }
  // Empty while enabled.
  const std::string& why_disabled() const { return why_disabled_; }
  bool has_key() const { return !key_.empty(); }
  // True if the request may use the admin API; else *error says why (404
  // disabled, 401 missing or wrong key).
  bool check(const http::Request& req, ApiError* error) const;
  // `authorization` (a header value or nullptr) carries the admin key.
  bool is_admin_key(const std::string* authorization) const;

 private:
  std::string key_;
  bool enabled_ = false;
  std::string why_disabled_;
};

}  // namespace qp::frontend::admin
