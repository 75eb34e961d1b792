#include <string>

#include <catch2/catch.hpp>

#include "frontend/frontend_metrics.h"
#include "frontend/metrics_endpoint.h"

using namespace qp;
using namespace qp::frontend;

namespace {

double sample(metrics::Registry& r, const std::string& name, std::vector<std::string> labels) {
  std::vector<protocol::MetricFamily> fams;
  r.collect({}, &fams);
  for (const auto& f : fams) {
    for (const auto& s : f.samples) {
      if (f.name + s.suffix == name && s.labels == labels) return s.value;
    }
  }
  return -1;
}

}  // namespace

// The access rule for /metrics is AdminAccess (admin_access_test.cc).

TEST_CASE("frontend metrics count requests, rejections, tokens and keys", "[metrics]") {
  FrontendMetrics m;
  RequestRecord r;
  r.id = "0123456789abcdef01234567";
  r.endpoint = "/v1/chat/completions";
  r.model = "qwen3-max";
  r.key = "ci";
  r.stream = true;
  r.start_ns = steady_now_ns();
  m.on_start(r);
  r.first_content_ns = r.start_ns + 250'000'000;
  m.on_first_content(r);
  r.account = "alice";
  protocol::Usage usage{10, 20, 30};
  RequestOutcome done;
  done.usage = &usage;
  m.on_end(r, done);

  // A rejection reported without on_start (FrontendApp::reject).
  RequestRecord rej;
  rej.endpoint = "/v1/chat/completions";
  rej.key = "ci";
  rej.start_ns = steady_now_ns();
  RequestOutcome out;
  out.http_status = 429;
  out.error_type = "rate_limit_error";
  m.on_end(rej, out);

  auto& reg = m.registry();
  CHECK(sample(reg, "qwenproxy_requests_total",
               {"endpoint", "/v1/chat/completions", "model", "qwen3-max", "account", "alice",
                "outcome", "ok", "status", "200"}) == 1);
  CHECK(sample(reg, "qwenproxy_requests_total",
               {"endpoint", "/v1/chat/completions", "model", "", "account", "", "outcome",
                "rate_limit_error", "status", "429"}) == 1);
  CHECK(sample(reg, "qwenproxy_tokens_total",
               {"model", "qwen3-max", "account", "alice", "direction", "in"}) == 10);
  CHECK(sample(reg, "qwenproxy_tokens_total",
               {"model", "qwen3-max", "account", "alice", "direction", "out"}) == 20);
  CHECK(sample(reg, "qwenproxy_key_requests_total", {"key", "ci", "outcome", "ok"}) == 1);
  CHECK(sample(reg, "qwenproxy_key_requests_total", {"key", "ci", "outcome", "rate_limit_error"}) ==
        1);
  CHECK(sample(reg, "qwenproxy_key_tokens_total", {"key", "ci", "direction", "out"}) == 20);
  CHECK(sample(reg, "qwenproxy_time_to_first_content_seconds_sum",
               {"model", "qwen3-max", "stream", "true"}) == Approx(0.25));
  CHECK(sample(reg, "qwenproxy_request_duration_seconds_count",
               {"endpoint", "/v1/chat/completions", "stream", "true"}) == 1);
  CHECK(sample(reg, "qwenproxy_request_duration_seconds_count",
               {"endpoint", "/v1/chat/completions", "stream", "false"}) == 1);
  // No request id anywhere in the labels.
  std::vector<protocol::MetricFamily> fams;
  reg.collect({}, &fams);
  for (const auto& f : fams)
    for (const auto& s : f.samples)
      for (const auto& l : s.labels) CHECK(l != r.id);
}

TEST_CASE("frontend metrics follow ClientAuth's failed authentications", "[metrics]") {
  FrontendMetrics m;
  ClientAuth auth("right-key", [] { return uint64_t{0}; });
  std::string wrong = "Bearer wrong-key";
  Caller caller;
  ApiError err;
  CHECK_FALSE(auth.authenticate(&wrong, &caller, &err));
  CHECK_FALSE(auth.authenticate(nullptr, &caller, &err));
  m.refresh_auth(auth);
  CHECK(sample(m.registry(), "qwenproxy_unauthenticated_total", {}) == 2);
  m.refresh_auth(auth);  // mirrors, does not add
  CHECK(sample(m.registry(), "qwenproxy_unauthenticated_total", {}) == 2);
}
