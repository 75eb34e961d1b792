#include "tools/bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace qp::bench {

size_t Histogram::bucket_of(uint64_t value) {
  if (value < 2 * kSubCount) return static_cast<size_t>(value);
  if (value >= (uint64_t{1} << kMaxBits)) return kBuckets - 1;
  // msb >= kSubBits + 1; shifting by e keeps kSubBits + 1 significant bits,
  // whose top bit is always set: (value >> e) is in [kSubCount, 2*kSubCount).
  int msb = 63 - std::countl_zero(value);
  int e = msb - kSubBits;
  return static_cast<size_t>(e) * kSubCount + static_cast<size_t>(value >> e);
}

uint64_t Histogram::bucket_low(size_t index) {
  if (index < 2 * kSubCount) return index;
  size_t e = index / kSubCount - 1;
  uint64_t mantissa = index % kSubCount + kSubCount;
  return mantissa << e;
}

uint64_t Histogram::bucket_high(size_t index) {
  if (index + 1 >= kBuckets) return UINT64_MAX;
  return bucket_low(index + 1) - 1;
}

void Histogram::record(uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::clear() { *this = Histogram(); }

uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  if (rank == 1) return min_;  // the extremes are known exactly
  if (rank == count_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      uint64_t lo = bucket_low(i);
      uint64_t hi = i + 1 < kBuckets ? bucket_high(i) : max_;
      uint64_t mid = lo + (hi - lo) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace qp::bench
