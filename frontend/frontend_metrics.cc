#include "frontend/frontend_metrics.h"

#include <charconv>

#include "common/metrics/process_metrics.h"

namespace qp::frontend {
namespace {

std::string_view outcome_of(const RequestOutcome& out) {
  return out.error_type.empty() ? std::string_view("ok") : out.error_type;
}

std::string_view stream_label(bool stream) { return stream ? "true" : "false"; }

}  // namespace

FrontendMetrics::FrontendMetrics() {
  requests_ = &registry_.counter(
      "qwenproxy_requests_total",
      "API requests answered, by endpoint, model, serving account, outcome (ok or the OpenAI "
      "error type) and HTTP status (499: the client went away).",
      {"endpoint", "model", "account", "outcome", "status"});
  duration_ = &registry_.histogram(
      "qwenproxy_request_duration_seconds",
      "Time from reading the request to its end (last byte, error or client gone).",
      {"endpoint", "stream"}, metrics::latency_buckets());
  ttfc_ = &registry_.histogram("qwenproxy_time_to_first_content_seconds",
                               "Time from reading a chat request to its first content (text, "
                               "reasoning or tool call) from upstream.",
                               {"model", "stream"}, metrics::latency_buckets());
  tokens_ = &registry_.counter("qwenproxy_tokens_total",
                               "Tokens by model and account as Qwen reported them (direction: "
                               "in = prompt, out = completion).",
                               {"model", "account", "direction"});
  key_requests_ =
      &registry_.counter("qwenproxy_key_requests_total",
                         "API requests by client key name (empty: no key or frontend.api_key) "
                         "and outcome.",
                         {"key", "outcome"});
  key_tokens_ = &registry_.counter("qwenproxy_key_tokens_total",
                                   "Tokens by client key name (direction: in = prompt, out = "
                                   "completion).",
                                   {"key", "direction"});
  key_rejections_ = &registry_.counter("qwenproxy_key_rejections_total",
                                       "Requests a client key's limits refused, by key name and "
                                       "reason (model, rpm, tpm, concurrency).",
                                       {"key", "reason"});
  unauthenticated_ = &registry_
                          .counter("qwenproxy_unauthenticated_total",
                                   "API requests refused for a missing or wrong client key (401).")
                          .get();
  in_flight_ =
      &registry_
           .gauge("qwenproxy_requests_in_flight", "Chat requests admitted and not yet finished.")
           .get();
  broker_connected_ =
      &registry_.gauge("qwenproxy_broker_connected", "1 while the broker answers heartbeats.")
           .get();
  metrics::add_process_metrics(registry_);
}

void FrontendMetrics::refresh_auth(const ClientAuth& auth) {
  // ClientAuth's counters are monotonic: the metric follows them.
  auto follow = [](metrics::Counter& c, uint64_t v) { c.inc(static_cast<double>(v) - c.value()); };
  follow(*unauthenticated_, auth.unauthenticated());
  for (const auto& [id, u] : auth.usage()) {
    for (size_t i = 0; i < kRejectionCount; ++i) {
      if (u.rejected[i] == 0) continue;
      follow(key_rejections_->with({u.name, rejection_name(static_cast<Rejection>(i))}),
             u.rejected[i]);
    }
  }
}

void FrontendMetrics::on_first_content(const RequestRecord& r) {
  if (r.first_content_ns < r.start_ns) return;
  double s = static_cast<double>(r.first_content_ns - r.start_ns) / 1e9;
  ttfc_->with({r.model, stream_label(r.stream)}).observe(s);
}

void FrontendMetrics::on_end(const RequestRecord& r, const RequestOutcome& out) {
  char status[8];
  auto res = std::to_chars(status, status + sizeof status, out.http_status);
  std::string_view status_sv(status, static_cast<size_t>(res.ptr - status));
  std::string_view outcome = outcome_of(out);
  requests_->with({r.endpoint, r.model, r.account, outcome, status_sv}).inc();
  key_requests_->with({r.key, outcome}).inc();
  uint64_t now = steady_now_ns();
  if (r.start_ns > 0 && now >= r.start_ns) {
    duration_->with({r.endpoint, stream_label(r.stream)})
        .observe(static_cast<double>(now - r.start_ns) / 1e9);
  }
  if (out.usage != nullptr) {
    auto in = static_cast<double>(out.usage->prompt_tokens);
    auto outt = static_cast<double>(out.usage->completion_tokens);
    tokens_->with({r.model, r.account, "in"}).inc(in);
    tokens_->with({r.model, r.account, "out"}).inc(outt);
    key_tokens_->with({r.key, "in"}).inc(in);
    key_tokens_->with({r.key, "out"}).inc(outt);
  }
}

}  // namespace qp::frontend
