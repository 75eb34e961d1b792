// The broker's metric families (docs/metrics.md), sent to frontends in the
// broker's HEARTBEAT together with every live worker's latest families
// (WorkerStatus::metrics). Counters are bumped by Broker where the event
// happens; gauges are refreshed from the registries right before each
// collection (refresh()). The loop's thread only.
#pragma once

#include <cstdint>
#include <vector>

#include "broker/worker_registry.h"
#include "common/metrics/registry.h"
#include "common/protocol/messages.h"

namespace qp::broker {

class BrokerMetrics {
 public:
  BrokerMetrics();
  // How a chat job's dispatch used the conversation index.
  enum class Conversation { kNew, kContinued, kReplayed, kForked };
  void count_conversation(Conversation c);
  void count_failover() { failovers_->inc(); }
  void count_requeue() { requeues_->inc(); }
  void count_queue_rejection(bool timeout) { (timeout ? queue_timeouts_ : queue_full_)->inc(); }

  // Sets the gauges, then appends the broker's families (process="broker")
  // and each live worker's last families to *out.
  void collect(const WorkerRegistry& workers, size_t queued, int64_t now_unix_s,
               std::vector<protocol::MetricFamily>* out);

 private:
  metrics::Registry registry_;
  metrics::Counter* failovers_;
  metrics::Counter* requeues_;
  metrics::Counter* queue_full_;
  metrics::Counter* queue_timeouts_;
  metrics::Counter* heartbeats_;
  metrics::CounterFamily* conversations_;
  metrics::Gauge* queue_depth_;
  metrics::Gauge* workers_;
  metrics::GaugeFamily* accounts_;
  metrics::GaugeFamily* token_expiry_;
};

}  // namespace qp::broker
