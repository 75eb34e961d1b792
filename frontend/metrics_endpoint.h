// GET /metrics (docs/metrics.md): the frontend's own metric families merged
// with the broker's and every live worker's, which arrive in the broker's
// HEARTBEAT (BrokerStatus::metrics), as Prometheus text 0.0.4.
//
// Access (the operator console's rule, docs/metrics.md "Access"):
//  - frontend.admin_key set: `Authorization: Bearer <admin_key>` is required
//    (constant-time compare); anything else, client keys included, gets 401
//    invalid_api_key.
//  - no admin key: served only while the frontend listens on a loopback
//    address (127.0.0.0/8, ::1, localhost); otherwise 404 saying why.
// h-admin's frontend/admin/access.{h,cc} implements the same rule for the
// admin API; this is a small copy of it until the two are merged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/registry.h"
#include "common/protocol/messages.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend {

// True for 127.0.0.0/8, ::1 (also bracketed) and "localhost".
bool is_loopback_host(std::string_view host);

// Applies the rule above; false with *err set when the request is refused.
bool check_admin_access(std::string_view admin_key, bool loopback_listener,
                        const std::string* authorization, ApiError* err);

// The scrape body: `own` (already collected) then the broker's families, if any.
std::string metrics_text(const std::vector<protocol::MetricFamily>& own,
                         const std::vector<protocol::MetricFamily>* broker);

}  // namespace qp::frontend
