#include "common/metrics/registry.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace qp::metrics {

void Histogram::observe(double v) {
  size_t i = 0;
  const auto& b = *bounds_;
  while (i < b.size() && v > b[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // Prefer the shortest form that reads back the same.
    for (int prec = 1; prec < 17; ++prec) {
      char shorter[32];
      std::snprintf(shorter, sizeof shorter, "%.*g", prec, v);
      if (std::strtod(shorter, nullptr) == v) return shorter;
    }
  }
  return buf;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                        2.5,   5,    10,    20,   30,  60,   120, 300};
  return b;
}

LabelViews FamilyBase::views(std::initializer_list<std::string_view> values) const {
  LabelViews v{};
  size_t i = 0;
  for (std::string_view s : values) {
    if (i == kMaxLabels || i == label_names_.size()) break;
    v[i++] = s;
  }
  return v;
}

void FamilyBase::labels_of(const LabelValues& v, const std::vector<std::string>& extra,
                           std::vector<std::string>* out) const {
  out->clear();
  out->reserve(extra.size() + 2 * label_names_.size() + 2);
  out->insert(out->end(), extra.begin(), extra.end());
  for (size_t i = 0; i < label_names_.size() && i < kMaxLabels; ++i) {
    out->push_back(label_names_[i]);
    out->push_back(v[i]);
  }
}

template <class S>
void Family<S>::collect(const std::vector<std::string>& extra, protocol::MetricFamily* out) const {
  for (const auto& [labels, s] : series_) {
    protocol::MetricSample sample;
    labels_of(labels, extra, &sample.labels);
    if constexpr (std::is_same_v<S, Histogram>) {
      uint64_t cumulative = 0;
      const auto& counts = s.counts();
      for (size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        protocol::MetricSample b;
        b.suffix = "_bucket";
        b.labels = sample.labels;
        b.labels.push_back("le");
        b.labels.push_back(i < s.bounds().size() ? format_value(s.bounds()[i]) : "+Inf");
        b.value = static_cast<double>(cumulative);
        out->samples.push_back(std::move(b));
      }
      protocol::MetricSample sum{"_sum", sample.labels, s.sum()};
      out->samples.push_back(std::move(sum));
      sample.suffix = "_count";
      sample.value = static_cast<double>(s.count());
    } else {
      sample.value = s.value();
    }
    out->samples.push_back(std::move(sample));
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  auto f = std::make_unique<CounterFamily>(Type::kCounter, std::move(name), std::move(help),
                                           std::move(labels));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  auto f = std::make_unique<GaugeFamily>(Type::kGauge, std::move(name), std::move(help),
                                         std::move(labels));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  auto f = std::make_unique<HistogramFamily>(Type::kHistogram, std::move(name), std::move(help),
                                             std::move(labels));
  f->set_bounds(std::move(bounds));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

void Registry::collect(const std::vector<std::string>& extra,
                       std::vector<protocol::MetricFamily>* out) {
  for (auto& fn : hooks_) fn();
  for (const auto& f : families_) {
    if (f->series() == 0) continue;
    protocol::MetricFamily mf;
    mf.name = f->name();
    mf.type = type_name(f->type());
    mf.help = f->help();
    f->collect(extra, &mf);
    out->push_back(std::move(mf));
  }
}

}  // namespace qp::metrics
