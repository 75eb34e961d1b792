// The worker's metric families (docs/metrics.md), sent in every HEARTBEAT
// (WorkerStatus::metrics) and served by the frontend through the broker:
// upstream calls by endpoint, upstream errors by class, retries by cause,
// and the pre-warmed chat pool. Plain counters; the loop's thread only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/metrics/registry.h"
#include "common/protocol/messages.h"
#include "worker/qwen_requests.h"
#include "worker/retry_policy.h"
#include "worker/upstream_errors.h"

namespace qp::worker {

// The error class of a failure: rate_limit, waf, credentials, timeout,
// transport (no usable connection or response), internal (Qwen answered with
// an error, garbage or nothing). `transport`: the failure came from the
// transfer itself (HttpResult::failure), not from a response. Pure.
const char* upstream_error_class(const UpstreamFailure& f, bool transport);

const char* endpoint_label(Endpoint e);

class WorkerMetrics {
 public:
  WorkerMetrics();
  void count_call(Endpoint e) { calls_[static_cast<size_t>(e)]->inc(); }
  void count_error(const UpstreamFailure& f, bool transport) {
    errors_->with({upstream_error_class(f, transport)}).inc();
  }
  void count_retry(RetryCause c) { retries_->with({retry_cause_name(c)}).inc(); }
  void count_pool(bool hit) { (hit ? pool_hits_ : pool_misses_)->inc(); }
  void set_pool_size(size_t n) { pool_size_->set(static_cast<double>(n)); }
  // Appends the families, labelled process="worker",account=`account`.
  void collect(const std::string& account, std::vector<protocol::MetricFamily>* out);

 private:
  metrics::Registry registry_;
  std::vector<metrics::Counter*> calls_;
  metrics::CounterFamily* errors_;
  metrics::CounterFamily* retries_;
  metrics::Counter* pool_hits_;
  metrics::Counter* pool_misses_;
  metrics::Gauge* pool_size_;
  metrics::Counter* heartbeats_;
};

}  // namespace qp::worker
