#include "tools/bench/metrics.h"

#include <algorithm>

#include "common/json/writer.h"
#include "tools/bench/proc_stats.h"

namespace qp::bench {
namespace {

constexpr size_t kMaxErrorSamples = 10;

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

void write_histogram(json::Writer& w, std::string_view name, const Histogram& h) {
  w.key(name).begin_object();
  w.field("count", h.count());
  w.field("mean", h.mean() / 1e6);
  w.field("min", ms(h.min()));
  w.field("p50", ms(h.percentile(50)));
  w.field("p90", ms(h.percentile(90)));
  w.field("p99", ms(h.percentile(99)));
  w.field("p999", ms(h.percentile(99.9)));
  w.field("max", ms(h.max()));
  w.end_object();
}

// Per group: the first sample (before any load), the sample at t0, the
// maximum RSS, the RSS at the moment the most requests were open, and CPU
// seconds from t0 to the last sample.
void write_groups(json::Writer& w, const Metrics& m) {
  w.key("processes").begin_object();
  for (size_t g = 0; g < m.group_names.size(); ++g) {
    const Sample* first = nullptr;
    const Sample* at_t0 = nullptr;
    const Sample* last = nullptr;
    const Sample* peak = nullptr;
    uint64_t rss_max = 0;
    for (const Sample& s : m.samples) {
      if (g >= s.groups.size() || s.groups[g].alive == 0) continue;
      if (first == nullptr) first = &s;
      if (at_t0 == nullptr && s.t_ns >= 0) at_t0 = &s;
      last = &s;
      rss_max = std::max(rss_max, s.groups[g].rss_bytes);
      if (peak == nullptr || s.open > peak->open ||
          (s.open == peak->open && s.groups[g].rss_bytes > peak->groups[g].rss_bytes)) {
        peak = &s;
      }
    }
    w.key(m.group_names[g]).begin_object();
    if (first != nullptr) {
      if (at_t0 == nullptr) at_t0 = first;
      w.field("rss_kib_before", first->groups[g].rss_bytes / 1024);
      w.field("rss_kib_t0", at_t0->groups[g].rss_bytes / 1024);
      w.field("rss_kib_max", rss_max / 1024);
      w.field("rss_kib_end", last->groups[g].rss_bytes / 1024);
      w.field("peak_open", peak->open);
      w.field("rss_kib_at_peak_open", peak->groups[g].rss_bytes / 1024);
      uint64_t cpu = last->groups[g].cpu_ticks -
                     std::min(last->groups[g].cpu_ticks, at_t0->groups[g].cpu_ticks);
      w.field("cpu_s", ticks_to_seconds(cpu));
      w.field("processes", last->groups[g].alive);
    }
    w.end_object();
  }
  w.end_object();
}

void write_samples(json::Writer& w, const Metrics& m) {
  w.key("samples").begin_array();
  for (const Sample& s : m.samples) {
    w.begin_object();
    w.field("t_s", static_cast<double>(s.t_ns) / 1e9);
    w.field("open", s.open);
    w.field("ok", s.ok);
    w.field("chunks", s.chunks);
    w.field("self_cpu_s", static_cast<double>(s.self_cpu_us) / 1e6);
    for (size_t g = 0; g < m.group_names.size() && g < s.groups.size(); ++g) {
      w.key(m.group_names[g]).begin_object();
      w.field("rss_kib", s.groups[g].rss_bytes / 1024);
      w.field("cpu_s", ticks_to_seconds(s.groups[g].cpu_ticks));
      w.end_object();
    }
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string_view error_kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kReset:
      return "reset";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kHttpStatus:
      return "http_status";
    case ErrorKind::kStreamError:
      return "stream_error";
    case ErrorKind::kIncomplete:
      return "incomplete";
    case ErrorKind::kEnvelope:
      return "envelope";
    case ErrorKind::kBadResponse:
      return "bad_response";
  }
  return "unknown";
}

void Metrics::record_error(ErrorKind kind, int http_status, std::string_view detail) {
  ++errors[static_cast<size_t>(kind)];
  if (kind == ErrorKind::kHttpStatus) ++http_statuses[http_status];
  if (error_samples.size() < kMaxErrorSamples) {
    std::string s(error_kind_name(kind));
    if (http_status != 0) s.append(" ").append(std::to_string(http_status));
    if (!detail.empty()) s.append(": ").append(detail.substr(0, 300));
    error_samples.push_back(std::move(s));
  }
}

std::string report_json(const RunInfo& info, const Metrics& m) {
  std::string out;
  json::Writer w(&out);
  w.begin_object();
  w.field("label", info.label);
  w.key("config").begin_object();
  w.field("url", info.url);
  w.field("api", info.api);
  if (info.api == "qwen") w.field("qwen_chat", info.qwen_chat);
  w.field("stream", info.stream);
  w.field("model", info.model);
  w.field("prompt_bytes", static_cast<uint64_t>(info.prompt_bytes));
  w.field("connections", info.connections);
  w.field("mode", info.rate > 0 ? "open" : "closed");
  w.field("rate", info.rate);
  w.field("duration_s", info.duration_s);
  w.field("requests", info.requests);
  w.field("warmup_s", info.warmup_s);
  w.field("ramp_s", info.ramp_s);
  w.end_object();

  w.key("requests").begin_object();
  w.field("started", m.started);
  w.field("ok", m.ok);
  w.field("failed", m.failed);
  w.field("measured_ok", m.measured_ok);
  w.field("measured_failed", m.measured_failed);
  w.field("unfinished", m.unfinished);
  w.field("not_sent", m.not_sent);
  w.field("peak_open", m.peak_open);
  w.end_object();

  uint64_t total_errors = 0;
  for (uint64_t e : m.errors) total_errors += e;
  w.key("errors").begin_object();
  w.field("total", total_errors);
  for (size_t i = 0; i < kErrorKinds; ++i) {
    w.field(error_kind_name(static_cast<ErrorKind>(i)), m.errors[i]);
  }
  w.key("http_statuses").begin_object();
  for (const auto& [status, n] : m.http_statuses) w.field(std::to_string(status), n);
  w.end_object();
  w.field("connect_failures", m.connect_failures);
  w.key("samples").begin_array();
  for (const std::string& s : m.error_samples) w.value(s);
  w.end_array();
  w.end_object();

  w.key("throughput").begin_object();
  w.field("window_s", info.window_s);
  w.field("elapsed_s", info.elapsed_s);
  w.field("ok_in_window", m.window_ok);
  w.field("chunks_in_window", m.window_chunks);
  double win = info.window_s > 0 ? info.window_s : 1;
  w.field("rps", static_cast<double>(m.window_ok) / win);
  w.field("chunks_per_s", static_cast<double>(m.window_chunks) / win);
  w.field("content_chunks", m.content_chunks);
  w.field("events", m.events);
  w.field("body_bytes", m.body_bytes);
  w.end_object();

  w.key("latency_ms").begin_object();
  write_histogram(w, "ttfb", m.ttfb);
  write_histogram(w, "ttfc", m.ttfc);
  write_histogram(w, "total", m.total);
  write_histogram(w, "service", m.service);
  write_histogram(w, "queue", m.queue);
  write_histogram(w, "gap", m.gap);
  write_histogram(w, "new_chat", m.new_chat);
  w.end_object();

  write_groups(w, m);
  w.key("generator").begin_object();
  w.field("cpu_s", info.generator_cpu_s);
  w.field("rss_kib", info.generator_rss_bytes / 1024);
  w.end_object();
  write_samples(w, m);
  w.end_object();
  out.push_back('\n');
  return out;
}

}  // namespace qp::bench
