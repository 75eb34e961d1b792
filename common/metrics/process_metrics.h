// The standard process_* metrics (the names Prometheus client libraries use)
// read from /proc/self on each collection: resident memory, CPU seconds,
// open and maximum file descriptors, start time. Linux only; a file that
// cannot be read leaves its gauge out of that collection.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/metrics/registry.h"

namespace qp::metrics {

struct ProcessStats {
  double resident_bytes = 0;
  double cpu_seconds = 0;
  double start_time_unix_s = 0;
  double open_fds = 0;
  double max_fds = 0;
};

// Parses /proc/self/stat's text (fields after the parenthesised command) with
// the clock tick, page size and boot time given; nullopt if malformed. Pure.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_s,
                                            long page_bytes, int64_t boot_unix_s);
// Parses "Max open files  1024  4096  files" out of /proc/self/limits.
std::optional<double> parse_max_fds(std::string_view limits);

// Registers the process_* families in `r` and refreshes them on every collect.
void add_process_metrics(Registry& r);

}  // namespace qp::metrics
