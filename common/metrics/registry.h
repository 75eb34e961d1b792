// A tiny metrics registry for one process (docs/metrics.md): counters,
// gauges and histograms with fixed buckets, in families with at most
// kMaxLabels label names. collect() turns it into protocol::MetricFamily
// values, which heartbeats carry to the frontend (common/protocol) and
// text_format.h writes as Prometheus text.
//
// Contract:
//  - Single-threaded: a registry belongs to one event loop; nothing locks.
//  - Hot path: `family.with({...})` finds a series without allocating when it
//    exists (heterogeneous lookup on string views); the returned reference
//    stays valid for the registry's life, so callers may keep it and then
//    only add to a double.
//  - Cardinality: a family holds at most max_series label sets (default
//    kMaxSeries); any further set is counted under the set whose every value
//    is "other". Callers must still keep request ids, prompts and user text
//    out of labels.
//  - Names and label names are the caller's responsibility (valid Prometheus
//    identifiers); label values may be anything (the writer escapes them).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/protocol/messages.h"

namespace qp::metrics {

inline constexpr size_t kMaxLabels = 5;
inline constexpr size_t kMaxSeries = 1000;
inline constexpr std::string_view kOverflowValue = "other";

class Counter {
 public:
  void inc(double by = 1) { value_ += by; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Gauge {
 public:
  void set(double v) { value_ = v; }
  void add(double by) { value_ += by; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// Fixed upper bounds (ascending, without +Inf), shared by the family.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds)
      : bounds_(bounds), counts_(bounds->size() + 1, 0) {}
  void observe(double v);
  const std::vector<double>& bounds() const { return *bounds_; }
  // Per-bucket (not cumulative) counts; the last one is the +Inf bucket.
  const std::vector<uint64_t>& counts() const { return counts_; }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  const std::vector<double>* bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

enum class Type { kCounter, kGauge, kHistogram };
const char* type_name(Type t);

using LabelValues = std::array<std::string, kMaxLabels>;
using LabelViews = std::array<std::string_view, kMaxLabels>;

struct LabelLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    for (size_t i = 0; i < kMaxLabels; ++i) {
      std::string_view x(a[i]), y(b[i]);
      if (x != y) return x < y;
    }
    return false;
  }
};

class FamilyBase {
 public:
  FamilyBase(Type type, std::string name, std::string help, std::vector<std::string> label_names)
      : type_(type),
        name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  void set_max_series(size_t n) { max_series_ = n; }
  // Appends this family's samples, each with `extra` (name, value pairs) first.
  virtual void collect(const std::vector<std::string>& extra,
                       protocol::MetricFamily* out) const = 0;
  virtual size_t series() const = 0;

 protected:
  LabelViews views(std::initializer_list<std::string_view> values) const;
  void labels_of(const LabelValues& v, const std::vector<std::string>& extra,
                 std::vector<std::string>* out) const;
  size_t max_series_ = kMaxSeries;

 private:
  Type type_;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

template <class S>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  // The series for these label values (as many as label names, in order).
  S& with(std::initializer_list<std::string_view> values) {
    LabelViews key = views(values);
    auto it = series_.find(key);
    if (it != series_.end()) return it->second;
    if (series_.size() >= max_series_) {
      LabelViews other{};
      for (size_t i = 0; i < label_names().size(); ++i) other[i] = kOverflowValue;
      it = series_.find(other);
      if (it != series_.end()) return it->second;
      key = other;
    }
    LabelValues owned;
    for (size_t i = 0; i < kMaxLabels; ++i) owned[i] = std::string(key[i]);
    return series_.emplace(std::move(owned), make()).first->second;
  }
  S& get() { return with({}); }
  // Forgets every series (gauges rebuilt on each collection).
  void clear() { series_.clear(); }
  size_t series() const override { return series_.size(); }
  void collect(const std::vector<std::string>& extra, protocol::MetricFamily* out) const override;
  const std::map<LabelValues, S, LabelLess>& all() const { return series_; }

  void set_bounds(std::vector<double> b) { bounds_ = std::move(b); }

 private:
  S make() const {
    if constexpr (std::is_same_v<S, Histogram>) {
      return Histogram(&bounds_);
    } else {
      return S();
    }
  }
  std::map<LabelValues, S, LabelLess> series_;
  std::vector<double> bounds_;  // histograms only
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> bounds);
  // Runs before every collect(), e.g. to refresh gauges read from elsewhere.
  void on_collect(std::function<void()> fn) { hooks_.push_back(std::move(fn)); }
  // Every family, in registration order; `extra` label pairs come first in
  // every sample (e.g. {"process", "broker"}). Families without series are
  // left out.
  void collect(const std::vector<std::string>& extra, std::vector<protocol::MetricFamily>* out);

 private:
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> hooks_;
};

// Prometheus text of a value: integers without a fraction, +Inf, -Inf, NaN.
std::string format_value(double v);

// Default buckets for request latencies, in seconds.
const std::vector<double>& latency_buckets();

}  // namespace qp::metrics
