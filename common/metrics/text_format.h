// Prometheus text exposition format 0.0.4 for metric families from several
// processes (docs/metrics.md). Families with the same name are merged: one
// HELP and one TYPE line, then every sample of every source, so all samples
// of a family are contiguous as the format requires. A family whose type
// differs from the first one seen under that name is dropped (it would make
// the whole scrape invalid). Label values are escaped (\\, \", \n); HELP text
// too (\\, \n). Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "common/protocol/messages.h"

namespace qp::metrics {

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Writes the families of every source, in order of first appearance.
void write_text(const std::vector<const std::vector<protocol::MetricFamily>*>& sources,
                std::string* out);

// Appends `v` escaped as a label value (without quotes).
void append_label_value(std::string* out, std::string_view v);

}  // namespace qp::metrics
