// The console's pure bookkeeping (no I/O, no clocks of its own: times are
// passed in):
//  - HourSeries: one-minute buckets over the last hour (requests, errors,
//    tokens, latency percentiles), for /admin/v1/overview's series and each
//    account's last_hour. Fixed memory: 60 buckets, each with a log-scale
//    latency histogram.
//  - ErrorRing: the most recent errors, newest first, fixed capacity.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace qp::frontend::admin {

// Latency histogram with bins growing by 2^(1/4) (about 19 %): percentiles are
// reported as the upper edge of their bin.
class LatencyHistogram {
 public:
  static constexpr size_t kBins = 96;  // up to 2^24 ms (4.6 h); larger values go in the last bin
  void add(uint64_t ms);
  void clear() { bins_.fill(0), count_ = 0; }
  uint64_t count() const { return count_; }
  // The value under which a fraction `q` (0..1) of the samples lie; 0 if none.
  double percentile(double q) const;
  static double upper_edge(size_t bin);

 private:
  std::array<uint32_t, kBins> bins_{};
  uint64_t count_ = 0;
};

struct MinutePoint {
  int64_t t = 0;  // unix seconds at the start of the minute
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

struct HourTotals {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
};

class HourSeries {
 public:
  static constexpr size_t kMinutes = 60;
  // One finished request at `unix_ms`. latency_ms < 0: none recorded.
  void add(int64_t unix_ms, bool error, int64_t tokens_in, int64_t tokens_out, int64_t latency_ms);
  // kMinutes points, oldest first, the last one being the minute of now.
  std::vector<MinutePoint> points(int64_t now_unix_ms) const;
  // Sums over the kMinutes minutes ending with now's.
  HourTotals totals(int64_t now_unix_ms) const;

 private:
  struct Bucket {
    int64_t minute = -1;  // unix minute this bucket holds
    HourTotals n;
    LatencyHistogram latency;
  };
  const Bucket* live(int64_t minute) const;
  std::array<Bucket, kMinutes> buckets_{};
};

struct ErrorEntry {
  int64_t at_unix_ms = 0;
  std::string request_id;
  std::string endpoint;
  std::string model;
  std::string account;
  int status = 0;
  std::string type;
  std::string code;
  std::string message;  // client-visible message (never a secret)
};

class ErrorRing {
 public:
  explicit ErrorRing(size_t capacity = 100) : capacity_(capacity) {}
  void push(ErrorEntry e);
  size_t size() const { return entries_.size(); }
  // i = 0 is the newest.
  const ErrorEntry& newest(size_t i) const;

 private:
  size_t capacity_;
  size_t next_ = 0;  // slot the next push writes once full
  std::vector<ErrorEntry> entries_;
};

}  // namespace qp::frontend::admin
