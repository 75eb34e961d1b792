#include "broker/broker_metrics.h"

#include "common/metrics/process_metrics.h"

namespace qp::broker {

BrokerMetrics::BrokerMetrics() {
  queue_depth_ = &registry_.gauge("qwenproxy_queue_depth", "Jobs waiting for a worker.").get();
  workers_ = &registry_.gauge("qwenproxy_workers", "Workers registered with the broker.").get();
  accounts_ = &registry_.gauge("qwenproxy_accounts", "Accounts (live workers) by health state.",
                               {"health"});
  token_expiry_ = &registry_.gauge("qwenproxy_account_token_expires_in_seconds",
                                   "Seconds until the account's token expires (negative: "
                                   "expired); absent when unknown.",
                                   {"account"});
  failovers_ = &registry_
                    .counter("qwenproxy_failovers_total",
                             "Jobs moved to another account after an account failure (rate "
                             "limit, credentials, WAF) before any output.")
                    .get();
  requeues_ = &registry_
                   .counter("qwenproxy_requeues_total",
                            "Jobs dispatched again because their worker was lost before "
                            "any output.")
                   .get();
  auto& rejected = registry_.counter("qwenproxy_queue_rejected_total",
                                     "Jobs refused with 503 by the wait queue.", {"reason"});
  queue_full_ = &rejected.with({"full"});
  queue_timeouts_ = &rejected.with({"timeout"});
  conversations_ = &registry_.counter(
      "qwenproxy_conversations_total",
      "Chat job dispatches by use of the conversation index: new (no indexed history), continued "
      "(natively, in the indexed upstream chat), replayed (indexed but continued in a new chat: "
      "other account or worker), forked (the indexed chat was busy with another request).",
      {"mode"});
  for (const char* m : {"new", "continued", "replayed", "forked"}) conversations_->with({m});
  heartbeats_ = &registry_
                     .counter("qwenproxy_heartbeats_total",
                              "Status heartbeats this process has sent (carrying its "
                              "metrics).")
                     .get();
  metrics::add_process_metrics(registry_);
}

void BrokerMetrics::count_conversation(Conversation c) {
  switch (c) {
    case Conversation::kNew:
      conversations_->with({"new"}).inc();
      break;
    case Conversation::kContinued:
      conversations_->with({"continued"}).inc();
      break;
    case Conversation::kReplayed:
      conversations_->with({"replayed"}).inc();
      break;
    case Conversation::kForked:
      conversations_->with({"forked"}).inc();
      break;
  }
}

void BrokerMetrics::collect(const WorkerRegistry& workers, size_t queued, int64_t now_unix_s,
                            std::vector<protocol::MetricFamily>* out) {
  heartbeats_->inc();
  queue_depth_->set(static_cast<double>(queued));
  workers_->set(static_cast<double>(workers.size()));
  accounts_->clear();
  for (const char* h :
       {protocol::kHealthOk, protocol::kHealthRateLimited, protocol::kHealthNeedsVerification,
        protocol::kHealthCredentialsInvalid, protocol::kHealthUnreachable}) {
    accounts_->with({h}).set(0);
  }
  token_expiry_->clear();
  for (const auto& a : workers.summaries()) {
    accounts_->with({a.health}).add(1);
    if (a.token_expires_unix_s > 0) {
      token_expiry_->with({a.account})
          .set(static_cast<double>(a.token_expires_unix_s - now_unix_s));
    }
  }
  registry_.collect({"process", "broker"}, out);
  for (const WorkerEntry* w : workers.ordered()) {
    out->insert(out->end(), w->status.metrics.begin(), w->status.metrics.end());
  }
}

}  // namespace qp::broker
