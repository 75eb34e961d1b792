#include "common/metrics/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qp::metrics {
namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t boot_time_unix_s() {
  std::string s = read_file("/proc/stat");
  size_t p = s.find("\nbtime ");
  if (p == std::string::npos) return 0;
  return std::strtoll(s.c_str() + p + 7, nullptr, 10);
}

double count_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  double n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_s,
                                            long page_bytes, int64_t boot_unix_s) {
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_s <= 0) return std::nullopt;
  std::vector<std::string_view> f;  // f[0] = field 3 (state)
  size_t i = close + 1;
  while (i < stat.size()) {
    while (i < stat.size() && (stat[i] == ' ' || stat[i] == '\n')) ++i;
    size_t j = i;
    while (j < stat.size() && stat[j] != ' ' && stat[j] != '\n') ++j;
    if (j > i) f.push_back(stat.substr(i, j - i));
    i = j;
  }
  // Fields (1-based, proc(5)): utime 14, stime 15, starttime 22, rss 24.
  if (f.size() < 22) return std::nullopt;
  auto num = [&](size_t field, double* out) {
    std::string_view s = f[field - 3];
    long long v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc()) return false;
    *out = static_cast<double>(v);
    return true;
  };
  double utime = 0, stime = 0, start = 0, rss = 0;
  if (!num(14, &utime) || !num(15, &stime) || !num(22, &start) || !num(24, &rss))
    return std::nullopt;
  ProcessStats st;
  st.cpu_seconds = (utime + stime) / static_cast<double>(ticks_per_s);
  st.start_time_unix_s =
      static_cast<double>(boot_unix_s) + start / static_cast<double>(ticks_per_s);
  st.resident_bytes = rss * static_cast<double>(page_bytes);
  return st;
}

std::optional<double> parse_max_fds(std::string_view limits) {
  size_t p = limits.find("Max open files");
  if (p == std::string_view::npos) return std::nullopt;
  std::string_view rest = limits.substr(p + 14);
  size_t i = rest.find_first_not_of(' ');
  if (i == std::string_view::npos) return std::nullopt;
  rest = rest.substr(i);
  if (rest.rfind("unlimited", 0) == 0) return std::nullopt;
  long long v = 0;
  auto r = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (r.ec != std::errc()) return std::nullopt;
  return static_cast<double>(v);
}

void add_process_metrics(Registry& r) {
  auto& rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  auto& cpu = r.counter("process_cpu_seconds_total", "Total user and system CPU time in seconds.");
  auto& fds = r.gauge("process_open_fds", "Number of open file descriptors.");
  auto& max = r.gauge("process_max_fds", "Maximum number of open file descriptors.");
  auto& start = r.gauge("process_start_time_seconds",
                        "Start time of the process since the Unix epoch in seconds.");
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  const int64_t boot = boot_time_unix_s();
  r.on_collect([&rss, &cpu, &fds, &max, &start, ticks, page, boot] {
    if (auto st = parse_proc_stat(read_file("/proc/self/stat"), ticks, page, boot)) {
      rss.get().set(st->resident_bytes);
      Counter& c = cpu.get();
      c.inc(st->cpu_seconds - c.value());  // a counter that mirrors the kernel's
      start.get().set(st->start_time_unix_s);
    }
    if (double n = count_fds(); n >= 0) fds.get().set(n);
    if (auto m = parse_max_fds(read_file("/proc/self/limits"))) max.get().set(*m);
  });
}

}  // namespace qp::metrics
