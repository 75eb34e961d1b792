#include "tools/bench/proc_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

namespace qp::bench {
namespace {

// Parses the unsigned decimal at the start of s (after spaces); advances s.
std::optional<uint64_t> take_number(std::string_view* s) {
  while (!s->empty() && s->front() == ' ') s->remove_prefix(1);
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || ptr == s->data()) return std::nullopt;
  s->remove_prefix(static_cast<size_t>(ptr - s->data()));
  return v;
}

void skip_field(std::string_view* s) {
  while (!s->empty() && s->front() == ' ') s->remove_prefix(1);
  while (!s->empty() && s->front() != ' ') s->remove_prefix(1);
}

// Reads a small /proc file into buf; returns its contents.
std::optional<std::string_view> read_small(const char* path, char* buf, size_t cap) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ssize_t n = ::read(fd, buf, cap);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return std::string_view(buf, static_cast<size_t>(n));
}

}  // namespace

std::optional<uint64_t> parse_stat_cpu_ticks(std::string_view stat) {
  size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  std::string_view s = stat.substr(paren + 1);
  // Fields 3 (state) .. 13 (cmajflt) come before utime (14).
  for (int field = 3; field <= 13; ++field) {
    skip_field(&s);
    if (s.empty()) return std::nullopt;
  }
  auto utime = take_number(&s);
  auto stime = take_number(&s);
  if (!utime || !stime) return std::nullopt;
  return *utime + *stime;
}

std::optional<uint64_t> parse_statm_resident_pages(std::string_view statm) {
  if (!take_number(&statm)) return std::nullopt;
  return take_number(&statm);
}

std::optional<ProcSample> read_proc_sample(pid_t pid) {
  char path[64];
  char buf[1024];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  auto stat = read_small(path, buf, sizeof buf);
  if (!stat) return std::nullopt;
  auto ticks = parse_stat_cpu_ticks(*stat);
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  auto statm = read_small(path, buf, sizeof buf);
  if (!statm) return std::nullopt;
  auto pages = parse_statm_resident_pages(*statm);
  if (!ticks || !pages) return std::nullopt;
  static const uint64_t kPage = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return ProcSample{*pages * kPage, *ticks};
}

double ticks_to_seconds(uint64_t ticks) {
  static const double kHz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(ticks) / kHz;
}

}  // namespace qp::bench
