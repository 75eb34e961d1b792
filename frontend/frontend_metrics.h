// The frontend's own metrics (docs/metrics.md): a RequestObserver that
// counts every API request the frontend answers, by endpoint, model, account
// and outcome, with durations, time to first content, Qwen's token usage and
// per-client-key totals. Plain counters behind map lookups that do not
// allocate once a label set exists; the loop's thread only.
//
// Labels never carry request ids or user text: `model` is what FrontendApp
// puts in the record, which is the model the request was accepted with or a
// listed one (empty otherwise); families are capped (metrics::kMaxSeries).
#pragma once

#include <string_view>

#include "common/metrics/registry.h"
#include "frontend/client_auth.h"
#include "frontend/request_observer.h"

namespace qp::frontend {

class FrontendMetrics final : public RequestObserver {
 public:
  FrontendMetrics();
  metrics::Registry& registry() { return registry_; }
  // Refreshed by FrontendApp before each collection.
  metrics::Gauge& in_flight() { return *in_flight_; }
  metrics::Gauge& broker_connected() { return *broker_connected_; }

  // Mirrors ClientAuth's per-key rejection counters and failed
  // authentications (called before each collection).
  void refresh_auth(const ClientAuth& auth);

  void on_first_content(const RequestRecord& r) override;
  void on_end(const RequestRecord& r, const RequestOutcome& out) override;

 private:
  metrics::Registry registry_;
  metrics::CounterFamily* requests_;
  metrics::HistogramFamily* duration_;
  metrics::HistogramFamily* ttfc_;
  metrics::CounterFamily* tokens_;
  metrics::CounterFamily* key_requests_;
  metrics::CounterFamily* key_tokens_;
  metrics::CounterFamily* key_rejections_;
  metrics::Counter* unauthenticated_;
  metrics::Gauge* in_flight_;
  metrics::Gauge* broker_connected_;
};

}  // namespace qp::frontend
