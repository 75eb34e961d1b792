#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/metrics/text_format.h"

using namespace qp;
using namespace qp::metrics;

namespace {

std::string text_of(Registry& r, std::vector<std::string> extra = {}) {
  std::vector<protocol::MetricFamily> fams;
  r.collect(extra, &fams);
  std::string out;
  write_text({&fams}, &out);
  return out;
}

}  // namespace

TEST_CASE("counters, gauges and label sets", "[metrics]") {
  Registry r;
  auto& calls = r.counter("qp_calls_total", "Calls.", {"endpoint", "outcome"});
  calls.with({"a", "ok"}).inc();
  calls.with({"a", "ok"}).inc(2);
  calls.with({"b", "error"}).inc();
  Counter& cached = calls.with({"a", "ok"});
  cached.inc();
  CHECK(calls.with({"a", "ok"}).value() == 4);
  CHECK(calls.series() == 2);
  auto& g = r.gauge("qp_in_flight", "In flight.");
  g.get().set(3);
  g.get().add(-1);
  r.gauge("qp_unused", "Never set.");  // no series: left out
  std::string t = text_of(r, {"process", "frontend"});
  CHECK(t ==
        "# HELP qp_calls_total Calls.\n"
        "# TYPE qp_calls_total counter\n"
        "qp_calls_total{process=\"frontend\",endpoint=\"a\",outcome=\"ok\"} 4\n"
        "qp_calls_total{process=\"frontend\",endpoint=\"b\",outcome=\"error\"} 1\n"
        "# HELP qp_in_flight In flight.\n"
        "# TYPE qp_in_flight gauge\n"
        "qp_in_flight{process=\"frontend\"} 2\n");
}

TEST_CASE("histograms have cumulative buckets, sum and count", "[metrics]") {
  Registry r;
  auto& h = r.histogram("qp_seconds", "Durations.", {"model"}, {0.25, 1});
  h.with({"m"}).observe(0.125);
  h.with({"m"}).observe(0.25);  // le is inclusive
  h.with({"m"}).observe(0.5);
  h.with({"m"}).observe(7);
  CHECK(text_of(r) ==
        "# HELP qp_seconds Durations.\n"
        "# TYPE qp_seconds histogram\n"
        "qp_seconds_bucket{model=\"m\",le=\"0.25\"} 2\n"
        "qp_seconds_bucket{model=\"m\",le=\"1\"} 3\n"
        "qp_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
        "qp_seconds_sum{model=\"m\"} 7.875\n"
        "qp_seconds_count{model=\"m\"} 4\n");
}

TEST_CASE("label sets past the cap go to 'other'", "[metrics]") {
  Registry r;
  auto& f = r.counter("qp_x_total", "X.", {"model", "key"});
  f.set_max_series(3);
  for (int i = 0; i < 10; ++i) f.with({"m" + std::to_string(i), "k"}).inc();
  CHECK(f.series() == 4);  // 3 + the overflow set
  CHECK(f.with({"m0", "k"}).value() == 1);
  CHECK(f.with({"zzz", "k"}).value() == 7);  // m3..m9 overflowed
  CHECK(f.with({"other", "other"}).value() == 7);
}

TEST_CASE("label values and help are escaped; families merge across sources", "[metrics]") {
  std::vector<protocol::MetricFamily> a = {
      {"qp_up", "gauge", "Line one\nback\\slash", {{"", {"process", "broker"}, 1}}}};
  std::vector<protocol::MetricFamily> b = {
      {"qp_other", "counter", "O.", {{"", {}, 2}}},
      {"qp_up", "gauge", "ignored", {{"", {"process", "worker", "account", "a\"b\\c\nd"}, 0}}},
      {"qp_up", "counter", "wrong type: dropped", {{"", {"process", "x"}, 5}}}};
  std::string out;
  write_text({&a, &b}, &out);
  CHECK(out ==
        "# HELP qp_up Line one\\nback\\\\slash\n"
        "# TYPE qp_up gauge\n"
        "qp_up{process=\"broker\"} 1\n"
        "qp_up{process=\"worker\",account=\"a\\\"b\\\\c\\nd\"} 0\n"
        "# HELP qp_other O.\n"
        "# TYPE qp_other counter\n"
        "qp_other 2\n");
}

TEST_CASE("values are formatted as Prometheus reads them", "[metrics]") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(42) == "42");
  CHECK(format_value(-3) == "-3");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(0.1) == "0.1");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
  CHECK(std::strtod(format_value(1.0 / 3).c_str(), nullptr) == 1.0 / 3);
}

TEST_CASE("process metrics are parsed from /proc", "[metrics]") {
  // A command with spaces and parentheses; fields 3..24 (proc(5)).
  std::string stat =
      "1234 (qp (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 1 0 5000 "
      "123456 300 18446744073709551615\n";
  auto st = parse_proc_stat(stat, 100, 4096, 1700000000);
  REQUIRE(st);
  CHECK(st->cpu_seconds == Approx(4.0));
  CHECK(st->start_time_unix_s == Approx(1700000050.0));
  CHECK(st->resident_bytes == 300.0 * 4096);
  CHECK_FALSE(parse_proc_stat("garbage", 100, 4096, 0));
  CHECK_FALSE(parse_proc_stat("1 (x) S 1 2", 100, 4096, 0));
  CHECK(parse_max_fds("Limit  Soft Limit  Hard Limit  Units\n"
                      "Max open files            1024                 524288               files\n")
            .value() == 1024);
  CHECK_FALSE(parse_max_fds("nothing"));

  Registry r;
  add_process_metrics(r);
  std::string t = text_of(r, {"process", "test"});
  CHECK(t.find("process_resident_memory_bytes{process=\"test\"} ") != std::string::npos);
  CHECK(t.find("# TYPE process_cpu_seconds_total counter") != std::string::npos);
  CHECK(t.find("process_open_fds{process=\"test\"} ") != std::string::npos);
  CHECK(t.find("process_max_fds{process=\"test\"} ") != std::string::npos);
  CHECK(t.find("process_start_time_seconds{process=\"test\"} ") != std::string::npos);
}

TEST_CASE("promtool accepts the writer's output", "[metrics][promtool]") {
  const char* promtool = "/usr/bin/promtool";
  if (std::FILE* f = std::fopen(promtool, "r")) {
    std::fclose(f);
  } else {
    WARN("promtool not installed: skipping the promtool check");
    return;
  }
  Registry r;
  r.counter("qwenproxy_requests_total", "Requests.", {"endpoint", "model"})
      .with({"/v1/chat/completions", "qwen \"3\"\n\\"})
      .inc(3);
  r.histogram("qwenproxy_request_duration_seconds", "Durations.", {"model"}, latency_buckets())
      .with({"m"})
      .observe(0.3);
  r.gauge("qwenproxy_requests_in_flight", "In flight.").get().set(0);
  add_process_metrics(r);
  std::string text = text_of(r, {"process", "frontend"});
  std::string path = "/tmp/qp-metrics-test-" + std::to_string(::getpid()) + ".prom";
  std::ofstream(path) << text;
  std::string cmd = std::string(promtool) + " check metrics < " + path + " > " + path + ".out 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(path + ".out");
  std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  std::remove((path + ".out").c_str());
  INFO(text);
  INFO(report);
  CHECK(rc == 0);
}
