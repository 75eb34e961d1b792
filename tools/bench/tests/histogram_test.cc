#include "tools/bench/histogram.h"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

using qp::bench::Histogram;

TEST_CASE("histogram buckets are exact below 256 and contiguous above", "[bench]") {
  for (uint64_t v = 0; v < 256; ++v) CHECK(Histogram::bucket_of(v) == v);
  for (size_t i = 0; i + 2 < Histogram::kBuckets; ++i) {
    REQUIRE(Histogram::bucket_low(i + 1) == Histogram::bucket_high(i) + 1);
  }
  for (uint64_t v : {256ull, 257ull, 511ull, 512ull, 1000ull, 123456789ull, (1ull << 41) + 5}) {
    size_t b = Histogram::bucket_of(v);
    CHECK(Histogram::bucket_low(b) <= v);
    CHECK(v <= Histogram::bucket_high(b));
    // Relative bucket width is at most 1/128.
    CHECK(static_cast<double>(Histogram::bucket_high(b) - Histogram::bucket_low(b)) <=
          static_cast<double>(Histogram::bucket_low(b)) / 128.0);
  }
}

TEST_CASE("histogram covers values up to 2^42 without overflowing its array", "[bench]") {
  CHECK(Histogram::bucket_of((uint64_t{1} << Histogram::kMaxBits) - 1) == Histogram::kBuckets - 1);
  CHECK(Histogram::bucket_low(Histogram::kBuckets - 1) < (uint64_t{1} << Histogram::kMaxBits));
}

TEST_CASE("histogram clamps huge values into the last bucket", "[bench]") {
  auto h = std::make_unique<Histogram>();
  h->record(UINT64_MAX);
  CHECK(Histogram::bucket_of(UINT64_MAX) == Histogram::kBuckets - 1);
  CHECK(h->max() == UINT64_MAX);
  CHECK(h->percentile(50) == UINT64_MAX);
}

TEST_CASE("histogram percentiles are within 1% of the exact ones", "[bench]") {
  auto h = std::make_unique<Histogram>();
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(13.0, 1.5);  // ~0.4 ms median in ns, long tail
  std::vector<uint64_t> values;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h->record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size())) - 1;
    double exact = static_cast<double>(values[rank]);
    double got = static_cast<double>(h->percentile(p));
    CHECK(std::abs(got - exact) <= exact * 0.01 + 1);
  }
  CHECK(h->percentile(100) == values.back());
  CHECK(h->percentile(0) == values.front());
  CHECK(h->count() == values.size());
  CHECK(h->min() == values.front());
}

TEST_CASE("histogram of one value reports it at every percentile", "[bench]") {
  auto h = std::make_unique<Histogram>();
  h->record(1'234'567);
  CHECK(h->percentile(1) == 1'234'567);
  CHECK(h->percentile(99) == 1'234'567);
  CHECK(h->mean() == 1'234'567.0);
}

TEST_CASE("empty histogram reports zeros", "[bench]") {
  auto h = std::make_unique<Histogram>();
  CHECK(h->count() == 0);
  CHECK(h->percentile(50) == 0);
  CHECK(h->min() == 0);
  CHECK(h->max() == 0);
  CHECK(h->mean() == 0.0);
}

TEST_CASE("histogram merge adds counts", "[bench]") {
  auto a = std::make_unique<Histogram>();
  auto b = std::make_unique<Histogram>();
  for (uint64_t v = 1; v <= 100; ++v) a->record(v);
  for (uint64_t v = 101; v <= 200; ++v) b->record(v);
  a->merge(*b);
  CHECK(a->count() == 200);
  CHECK(a->percentile(50) == 100);
  CHECK(a->max() == 200);
  CHECK(a->min() == 1);
  a->clear();
  CHECK(a->count() == 0);
}
