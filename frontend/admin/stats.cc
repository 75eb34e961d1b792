#include "frontend/admin/stats.h"

#include <cmath>

namespace qp::frontend::admin {
namespace {

int64_t minute_of(int64_t unix_ms) { return unix_ms >= 0 ? unix_ms / 60000 : -1; }

uint64_t positive(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }

}  // namespace

double LatencyHistogram::upper_edge(size_t bin) { return std::pow(2.0, bin / 4.0); }

void LatencyHistogram::add(uint64_t ms) {
  size_t bin = 0;
  if (ms > 1) {
    // Smallest bin whose upper edge is >= ms.
    bin = static_cast<size_t>(std::ceil(std::log2(static_cast<double>(ms)) * 4.0 - 1e-9));
    if (bin >= kBins) bin = kBins - 1;
  }
  ++bins_[bin];
  ++count_;
}

double LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBins; ++i) {
    seen += bins_[i];
    if (seen >= rank) return upper_edge(i);
  }
  return upper_edge(kBins - 1);
}

void HourSeries::add(int64_t unix_ms, bool error, int64_t tokens_in, int64_t tokens_out,
                     int64_t latency_ms) {
  int64_t minute = minute_of(unix_ms);
  if (minute < 0) return;
  Bucket& b = buckets_[static_cast<size_t>(minute) % kMinutes];
  if (b.minute != minute) {
    if (b.minute > minute) return;  // older than the hour this slot holds
    b.minute = minute;
    b.n = {};
    b.latency.clear();
  }
  ++b.n.requests;
  if (error) ++b.n.errors;
  b.n.tokens_in += positive(tokens_in);
  b.n.tokens_out += positive(tokens_out);
  if (latency_ms >= 0) b.latency.add(static_cast<uint64_t>(latency_ms));
}

const HourSeries::Bucket* HourSeries::live(int64_t minute) const {
  if (minute < 0) return nullptr;
  const Bucket& b = buckets_[static_cast<size_t>(minute) % kMinutes];
  return b.minute == minute ? &b : nullptr;
}

std::vector<MinutePoint> HourSeries::points(int64_t now_unix_ms) const {
  std::vector<MinutePoint> out;
  out.reserve(kMinutes);
  int64_t now = minute_of(now_unix_ms);
  for (int64_t m = now - static_cast<int64_t>(kMinutes) + 1; m <= now; ++m) {
    MinutePoint p;
    p.t = m * 60;
    if (const Bucket* b = live(m)) {
      p.requests = b->n.requests;
      p.errors = b->n.errors;
      p.tokens_in = b->n.tokens_in;
      p.tokens_out = b->n.tokens_out;
      p.p50_ms = b->latency.percentile(0.5);
      p.p99_ms = b->latency.percentile(0.99);
    }
    out.push_back(p);
  }
  return out;
}

HourTotals HourSeries::totals(int64_t now_unix_ms) const {
  HourTotals t;
  int64_t now = minute_of(now_unix_ms);
  for (int64_t m = now - static_cast<int64_t>(kMinutes) + 1; m <= now; ++m) {
    if (const Bucket* b = live(m)) {
      t.requests += b->n.requests;
      t.errors += b->n.errors;
      t.tokens_in += b->n.tokens_in;
      t.tokens_out += b->n.tokens_out;
    }
  }
  return t;
}

void ErrorRing::push(ErrorEntry e) {
  if (capacity_ == 0) return;
  if (entries_.size() < capacity_) {
    entries_.push_back(std::move(e));
    return;
  }
  entries_[next_] = std::move(e);
  next_ = (next_ + 1) % capacity_;
}

const ErrorEntry& ErrorRing::newest(size_t i) const {
  // Before the ring is full the newest is at the back; after, just before next_.
  size_t n = entries_.size();
  size_t newest_slot = entries_.size() < capacity_ ? n - 1 : (next_ + n - 1) % n;
  return entries_[(newest_slot + n - i) % n];
}

}  // namespace qp::frontend::admin
