// A fixed-size log-linear latency histogram (HdrHistogram's bucketing with 7
// sub-bucket bits): values below 256 are exact, above that each power of two
// is split into 128 buckets, so a reported percentile is within 0.4% of the
// true value. record() never allocates: the counts live in the object
// (36 KiB), which callers keep on the heap once per run.
//
// Values are unsigned integers (the load generator records nanoseconds).
// Values at or above 2^42 (73 minutes in ns) land in the last bucket; min and
// max are tracked exactly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace qp::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;  // 128
  static constexpr int kMaxBits = 42;                             // values < 2^42
  // Octave e (values in [2^(e+7), 2^(e+8))) uses indexes [(e+1)*128, (e+2)*128).
  static constexpr size_t kBuckets = (kMaxBits - kSubBits + 1) * kSubCount;

  void record(uint64_t value);
  void merge(const Histogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The value at percentile `p` (0..100): the smallest recorded value such
  // that at least p% of the values are <= it, reported as the middle of its
  // bucket and clamped to [min, max]. 0 when empty.
  uint64_t percentile(double p) const;

  // Bucket arithmetic, exposed for tests.
  static size_t bucket_of(uint64_t value);
  static uint64_t bucket_low(size_t index);   // smallest value in the bucket
  static uint64_t bucket_high(size_t index);  // largest value in the bucket

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace qp::bench
