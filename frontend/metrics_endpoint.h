// GET /metrics (docs/metrics.md): the frontend's own metric families merged
// with the broker's and every live worker's, which arrive in the broker's
// HEARTBEAT (BrokerStatus::metrics), as Prometheus text 0.0.4.
//
// Access: the operator console's rule, frontend/admin/access.h (checked by
// FrontendApp before it calls metrics_text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/registry.h"
#include "common/protocol/messages.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend {

// The scrape body: `own` (already collected) then the broker's families, if any.
std::string metrics_text(const std::vector<protocol::MetricFamily>& own,
                         const std::vector<protocol::MetricFamily>* broker);

}  // namespace qp::frontend
