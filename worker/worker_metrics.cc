#include "worker/worker_metrics.h"

#include <string_view>

#include "common/metrics/process_metrics.h"

namespace qp::worker {

const char* upstream_error_class(const UpstreamFailure& f, bool transport) {
  std::string_view h = f.health != nullptr ? f.health : "";
  if (h == protocol::kHealthRateLimited || f.code == Code::kRateLimited) return "rate_limit";
  if (h == protocol::kHealthNeedsVerification) return "waf";
  if (h == protocol::kHealthCredentialsInvalid || f.code == Code::kUpstreamAuth)
    return "credentials";
  if (f.code == Code::kUpstreamTimeout) return "timeout";
  if (transport || h == protocol::kHealthUnreachable) return "transport";
  return "internal";
}

const char* endpoint_label(Endpoint e) {
  switch (e) {
    case Endpoint::kModels:
      return "models";
    case Endpoint::kModelsV2:
      return "models_v2";
    case Endpoint::kNewChat:
      return "new_chat";
    case Endpoint::kCompletion:
      return "completion";
    case Endpoint::kStop:
      return "stop";
    case Endpoint::kDeleteChat:
      return "delete_chat";
    case Endpoint::kTaskStatus:
      return "task_status";
    case Endpoint::kSts:
      return "sts";
    case Endpoint::kFileParse:
      return "file_parse";
    case Endpoint::kFileParseStatus:
      return "file_parse_status";
  }
  return "other";
}

WorkerMetrics::WorkerMetrics() {
  auto& calls =
      registry_.counter("qwenproxy_upstream_calls_total",
                        "HTTP requests the worker started upstream, by endpoint.", {"endpoint"});
  for (auto e : {Endpoint::kModels, Endpoint::kModelsV2, Endpoint::kNewChat, Endpoint::kCompletion,
                 Endpoint::kStop, Endpoint::kDeleteChat, Endpoint::kTaskStatus, Endpoint::kSts,
                 Endpoint::kFileParse, Endpoint::kFileParseStatus}) {
    calls_.push_back(&calls.with({endpoint_label(e)}));
  }
  errors_ = &registry_.counter("qwenproxy_upstream_errors_total",
                               "Failed upstream attempts (retried or not) by class: rate_limit, "
                               "waf, credentials, timeout, transport, internal.",
                               {"class"});
  for (const char* c : {"rate_limit", "waf", "credentials", "timeout", "transport", "internal"})
    errors_->with({c});
  retries_ =
      &registry_.counter("qwenproxy_upstream_retries_total",
                         "Upstream attempts retried invisibly to the client, by cause.", {"cause"});
  for (auto c :
       {RetryCause::kInternalError, RetryCause::kChatInProgress, RetryCause::kParentMissing,
        RetryCause::kChatMissing, RetryCause::kEmptyAnswer, RetryCause::kUploadFailed}) {
    retries_->with({retry_cause_name(c)});
  }
  pool_hits_ = &registry_
                    .counter("qwenproxy_chat_pool_hits_total",
                             "New conversations that took a pre-warmed chat.")
                    .get();
  pool_misses_ = &registry_
                      .counter("qwenproxy_chat_pool_misses_total",
                               "New conversations that found no pre-warmed chat.")
                      .get();
  pool_size_ = &registry_.gauge("qwenproxy_chat_pool_size", "Pre-warmed chats ready.").get();
  heartbeats_ = &registry_
                     .counter("qwenproxy_heartbeats_total",
                              "Status heartbeats this process has sent (carrying its "
                              "metrics).")
                     .get();
  metrics::add_process_metrics(registry_);
}

void WorkerMetrics::collect(const std::string& account, std::vector<protocol::MetricFamily>* out) {
  heartbeats_->inc();
  registry_.collect({"process", "worker", "account", account}, out);
}

}  // namespace qp::worker
