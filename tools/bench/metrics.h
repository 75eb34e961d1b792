// What one run measures: per-request latency histograms, counters, error
// tallies and process samples. Pure data plus the JSON report; the runner
// fills it from the loop thread. Recording a request or a chunk does not
// allocate (histograms are fixed arrays; error texts are kept only for the
// first few errors).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/bench/histogram.h"

namespace qp::bench {

enum class ErrorKind {
  kConnect,      // connect() failed while a request was waiting (not used for idle reconnects)
  kReset,        // the connection closed or failed before the response ended
  kTimeout,      // no complete response within --timeout
  kHttpStatus,   // a status other than 200
  kStreamError,  // a `data: {"error"...}` event
  kIncomplete,   // the body ended without [DONE] (OpenAI) / `finished` (Qwen)
  kEnvelope,     // Qwen: a JSON envelope (success:false) instead of the stream
  kBadResponse,  // unparsable HTTP, or a body that is not what the API returns
};
inline constexpr size_t kErrorKinds = 8;
std::string_view error_kind_name(ErrorKind k);

// Timestamps of one request, in ns from uv_hrtime(); 0 = did not happen.
struct RequestTiming {
  uint64_t intended_ns = 0;       // scheduled start (open loop) or actual start (closed loop)
  uint64_t sent_ns = 0;           // first byte of the request written
  uint64_t new_chat_ns = 0;       // Qwen per-request: chats/new round trip (duration)
  uint64_t first_byte_ns = 0;     // first byte of the final response
  uint64_t first_content_ns = 0;  // first content event (non-stream: the whole body)
  uint64_t end_ns = 0;
  uint32_t content_chunks = 0;
  bool measured = false;  // intended after the warm-up
};

struct GroupSample {
  uint64_t rss_bytes = 0;
  uint64_t cpu_ticks = 0;
  int alive = 0;  // processes of the group that could be read
};

struct Sample {
  int64_t t_ns = 0;                 // relative to t0 (negative before the run starts)
  uint64_t open = 0;                // requests in flight
  uint64_t ok = 0;                  // cumulative successful requests
  uint64_t chunks = 0;              // cumulative content chunks
  std::vector<GroupSample> groups;  // parallel to Metrics::group_names
  uint64_t self_cpu_us = 0;         // the generator's own CPU time
};

struct Metrics {
  Histogram ttfb;      // intended start -> first response byte
  Histogram ttfc;      // intended start -> first content chunk
  Histogram total;     // intended start -> end (coordinated-omission aware)
  Histogram service;   // request written -> end
  Histogram queue;     // intended start -> request written (open loop backlog)
  Histogram gap;       // between consecutive content chunks of one request
  Histogram new_chat;  // Qwen per-request: chats/new round trip

  uint64_t started = 0;  // all requests handed to a connection
  uint64_t ok = 0;       // all successful
  uint64_t failed = 0;   // all failed
  uint64_t measured_ok = 0;
  uint64_t measured_failed = 0;
  uint64_t unfinished = 0;        // still running when the drain deadline passed
  uint64_t not_sent = 0;          // open loop: arrivals still queued at the end
  uint64_t connect_failures = 0;  // every failed connect, reconnects included
  uint64_t content_chunks = 0;    // all
  uint64_t events = 0;            // all SSE events
  uint64_t body_bytes = 0;
  uint64_t window_ok = 0;      // successful requests that ended inside the window
  uint64_t window_chunks = 0;  // content chunks received inside the window
  uint64_t peak_open = 0;
  std::array<uint64_t, kErrorKinds> errors{};
  std::map<int, uint64_t> http_statuses;   // non-200 statuses
  std::vector<std::string> error_samples;  // first few error details

  std::vector<std::string> group_names;
  std::vector<Sample> samples;

  void record_error(ErrorKind kind, int http_status, std::string_view detail);
};

struct RunInfo {
  std::string label;
  std::string url;
  std::string api;
  std::string qwen_chat;
  bool stream = false;
  std::string model;
  size_t prompt_bytes = 0;
  int connections = 0;
  double rate = 0;
  double duration_s = 0;
  uint64_t requests = 0;
  double warmup_s = 0;
  double ramp_s = 0;
  double window_s = 0;   // the throughput window actually used
  double elapsed_s = 0;  // t0 to the end of the drain
  uint64_t generator_rss_bytes = 0;
  double generator_cpu_s = 0;
};

// The machine-readable result (one JSON object). Latencies in ms.
std::string report_json(const RunInfo& info, const Metrics& m);

}  // namespace qp::bench
