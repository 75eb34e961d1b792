// Resident memory and CPU time of other processes, from /proc (Linux).
// The parsers are pure; read_proc_sample() does the file I/O with stack
// buffers only, so the sampler can run every few hundred milliseconds
// during a benchmark without disturbing it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace qp::bench {

struct ProcSample {
  uint64_t rss_bytes = 0;
  uint64_t cpu_ticks = 0;  // utime + stime, in clock ticks (sysconf(_SC_CLK_TCK))
};

// /proc/PID/stat: utime (field 14) + stime (field 15). The command name
// (field 2) may hold spaces and parentheses; fields are counted after the
// last ')'.
std::optional<uint64_t> parse_stat_cpu_ticks(std::string_view stat);
// /proc/PID/statm: the second field (resident pages).
std::optional<uint64_t> parse_statm_resident_pages(std::string_view statm);

// Reads both files; nullopt if the process is gone or a file is malformed.
std::optional<ProcSample> read_proc_sample(pid_t pid);

double ticks_to_seconds(uint64_t ticks);

}  // namespace qp::bench
