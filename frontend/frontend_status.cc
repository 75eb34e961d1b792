// FrontendApp's status routes: GET /health (for load balancers and, with a
// key, operators) and GET /metrics (Prometheus text).
#include <unistd.h>

#include <algorithm>

#include "common/ids.h"
#include "common/json/writer.h"
#include "common/metrics/text_format.h"
#include "common/uv/handle.h"
#include "frontend/frontend_app.h"
#include "frontend/metrics_endpoint.h"

namespace qp::frontend {

// Levels (docs/api.md): without authentication configured, or with a valid
// key (ClientAuth, the same check as /v1: any client key or the legacy
// api_key), everything; otherwise only the status, so that a
// load balancer needs no key and strangers see no account names, errors or
// token expiry. Before the broker has answered once: 503 "starting" with
// Retry-After ("not ready yet", not "broken").
void FrontendApp::handle_health(http::Exchange ex) {
  const auto& st = broker_->broker_status();
  bool broker_ok = broker_->connected();
  uint32_t healthy = 0;
  for (const auto& a : st.accounts) {
    if (a.health == "ok") ++healthy;
  }
  const bool starting = !broker_->ever_connected();
  const char* status = starting                       ? "starting"
                       : !broker_ok                   ? "unavailable"
                       : healthy == 0                 ? "unavailable"
                       : healthy < st.accounts.size() ? "degraded"
                                                      : "ok";
  const bool ready = std::string_view(status) == "ok" || std::string_view(status) == "degraded";
  http::Headers headers{{"content-type", "application/json"}, {"cache-control", "no-store"}};
  if (starting) headers.push_back({"retry-after", "1"});
  std::string body;
  json::Writer w(&body);
  if (!auth_->identify(ex.request().header("authorization"), nullptr)) {
    w.begin_object().field("status", status).end_object();
    ex.respond(ready ? 200 : 503, std::move(headers), std::move(body));
    return;
  }
  int64_t now_s = static_cast<int64_t>(uv::now_unix_ms() / 1000);
  w.begin_object().field("status", status).field("draining", draining_);
  // Which process answered (frontend.processes > 1 share the port).
  w.key("frontend")
      .begin_object()
      .field("index", static_cast<int64_t>(std::max(process_index_, 0)))
      .field("pid", static_cast<int64_t>(::getpid()))
      .end_object();
  w.key("broker")
      .begin_object()
      .field("connected", broker_ok)
      .field("instance", st.instance)
      .end_object();
  w.field("workers", st.workers)
      .field("queued", st.queued)
      .field("in_flight", static_cast<uint64_t>(calls_.size()));
  w.key("accounts").begin_array();
  for (const auto& a : st.accounts) {
    w.begin_object()
        .field("name", a.account)
        .field("health", a.health)
        .field("capacity", a.capacity)
        .field("in_flight", a.in_flight);
    if (a.token_expires_unix_s > 0) {
      int64_t left = a.token_expires_unix_s - now_s;
      w.field("token_expires_in_s", left).field("token_expiring_soon", left < 24 * 3600);
    } else {
      w.field_null("token_expires_in_s").field("token_expiring_soon", false);
    }
    if (!a.detail.empty()) w.field("detail", a.detail);
    w.end_object();
  }
  w.end_array().end_object();
  ex.respond(ready ? 200 : 503, std::move(headers), std::move(body));
}

// GET /metrics (docs/metrics.md): the operator's access rule, then the
// frontend's families and the broker's (its own and its workers', as of the
// broker's last heartbeat; left out while the broker is not connected).
void FrontendApp::handle_metrics(http::Exchange ex) {
  ApiError err;
  if (!admin_->access().check(ex.request(), &err)) {
    return reply_error(ex, err, ids::random_hex(24));
  }
  std::vector<protocol::MetricFamily> own;
  std::vector<std::string> labels{"process", "frontend"};
  if (process_index_ >= 0) {  // one of several: say which (docs/metrics.md)
    labels.emplace_back("frontend");
    labels.push_back(std::to_string(process_index_));
  }
  metrics_.registry().collect(labels, &own);
  const auto* broker = broker_->connected() ? &broker_->broker_status().metrics : nullptr;
  ex.respond(200, {{"content-type", metrics::kContentType}, {"cache-control", "no-store"}},
             metrics_text(own, broker));
}

}  // namespace qp::frontend
