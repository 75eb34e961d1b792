#include "tools/bench/load_runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "tools/bench/proc_stats.h"

namespace qp::bench {
namespace {

constexpr uint64_t kNsPerS = 1'000'000'000;
constexpr uint64_t kSweepMs = 50;
constexpr uint64_t kConnectDeadlineNs = 30 * kNsPerS;
constexpr size_t kReadBufferBytes = 256 * 1024;
constexpr std::string_view kUserAgent =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36";  // common/config.h's default

uint64_t seconds_to_ns(double s) { return static_cast<uint64_t>(s * 1e9); }

// The worker's `timezone` header: JavaScript Date.toString() in local time.
std::string js_date_now() {
  std::time_t t = std::time(nullptr);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a %b %d %Y %H:%M:%S GMT%z", &tm);
  return std::string(buf, n);
}

template <typename F>
void start_timer(uv::Timer& t, uv_loop_t* loop, void* self, uint64_t every_ms, F) {
  uv_timer_init(loop, t.get());
  t.get()->data = self;
  uv_timer_start(
      t.get(),
      [](uv_timer_t* h) {
        if (h->data == nullptr) return;
        try {
          F{}(static_cast<LoadRunner*>(h->data));
        } catch (...) {  // no exception crosses the C callback
        }
      },
      every_ms, every_ms);
}

}  // namespace

LoadRunner::LoadRunner(LoadOptions options)
    : o_(std::move(options)), metrics_(std::make_unique<Metrics>()), arrivals_(&loop_) {}

LoadRunner::~LoadRunner() {
  if (loop_open_) {
    tick_.reset();
    sweep_.reset();
    sampler_.reset();
    arrivals_.close();
    uv::close_loop(&loop_);
  }
}

Status LoadRunner::prepare() {
  int r = uv_loop_init(&loop_);
  if (r < 0) return Status(Code::kIo, std::string("uv_loop_init: ") + uv_strerror(r));
  loop_open_ = true;
  auto* sin = reinterpret_cast<sockaddr_in*>(&shared_.addr);    // NOLINT: sockaddr family cast
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&shared_.addr);  // NOLINT
  if (uv_ip4_addr(o_.target.host.c_str(), o_.target.port, sin) != 0 &&
      uv_ip6_addr(o_.target.host.c_str(), o_.target.port, sin6) != 0) {
    return Status(Code::kInvalidArgument, "host must be a numeric address: " + o_.target.host);
  }
  read_buffer_.resize(kReadBufferBytes);
  shared_.read_buffer = read_buffer_.data();
  shared_.read_buffer_size = read_buffer_.size();
  shared_.api = o_.api;
  shared_.stream = o_.stream;
  shared_.qwen_chat = o_.qwen_chat;
  if (o_.api == Api::kOpenAi) {
    shared_.openai_bytes = openai_request(
        OpenAiShape{o_.target.host_header, o_.model, o_.prompt, o_.stream, o_.token});
  }
  static const std::string kTimezone = js_date_now();
  shared_.qwen =
      QwenShape{o_.target.host_header, o_.model, o_.prompt, o_.token, kUserAgent, kTimezone};
  conns_.reserve(static_cast<size_t>(o_.connections));
  for (int i = 0; i < o_.connections; ++i) {
    conns_.push_back(std::make_unique<Connection>(&loop_, &shared_, this, conns_.size()));
  }
  idle_.reserve(conns_.size());
  in_idle_.assign(conns_.size(), 0);
  counted_ready_.assign(conns_.size(), 0);
  for (const ProcGroup& g : o_.groups) metrics_->group_names.push_back(g.name);
  uint64_t expected_samples =
      static_cast<uint64_t>((o_.duration_s + o_.drain_s + 60) * 1000 / o_.sample_ms);
  metrics_->samples.reserve(std::min<uint64_t>(expected_samples, 100'000));
  return Status();
}

Status LoadRunner::run() {
  if (Status s = prepare(); !s.ok()) return s;
  if (o_.rate > 0) {
    if (Status s = arrivals_.start([this] { on_arrival(); }); !s.ok()) return s;
  }
  take_sample();  // before any load: the baseline
  start_timer(sweep_, &loop_, this, kSweepMs, [](LoadRunner* r) { r->on_sweep(); });
  start_timer(sampler_, &loop_, this, static_cast<uint64_t>(o_.sample_ms),
              [](LoadRunner* r) { r->take_sample(); });
  t0_ns_ = uv_hrtime();  // provisional, for the connect deadline
  connect_more();
  uv_run(&loop_, UV_RUN_DEFAULT);

  for (Sample& s : metrics_->samples) s.t_ns -= static_cast<int64_t>(t0_ns_);
  elapsed_s_ = static_cast<double>(last_end_ns_ > t0_ns_ ? last_end_ns_ - t0_ns_ : 0) / 1e9;
  uint64_t window_end = duration_bound_ ? run_end_ns_ : last_end_ns_;
  window_s_ =
      window_end > measure_from_ns_ ? static_cast<double>(window_end - measure_from_ns_) / 1e9 : 0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  self_cpu_s_ = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  self_rss_bytes_ = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  if (!setup_error_.empty()) return Status(Code::kIo, setup_error_);
  return Status();
}

void LoadRunner::connect_more() {
  while (connecting_ < static_cast<size_t>(o_.connect_parallel) && next_connect_ < conns_.size()) {
    ++connecting_;
    conns_[next_connect_++]->connect();
  }
}

void LoadRunner::on_ready(Connection* c) {
  if (phase_ == Phase::kConnecting) {
    if (connecting_ > 0) --connecting_;
    if (counted_ready_[c->id()] == 0) {
      counted_ready_[c->id()] = 1;
      ++ready_;
    }
    connect_more();
    if (ready_ == conns_.size()) begin_run();
    return;
  }
  if (phase_ == Phase::kClosing || phase_ == Phase::kDone) return;
  if (o_.rate > 0) {
    make_idle(c);
  } else if (c->id() < ramp_next_ && may_start_closed(uv_hrtime())) {
    start(c, uv_hrtime());
  }
}

void LoadRunner::begin_run() {
  phase_ = Phase::kRunning;
  t0_ns_ = uv_hrtime();
  measure_from_ns_ = t0_ns_ + seconds_to_ns(o_.warmup_s);
  run_end_ns_ = o_.duration_s > 0 ? t0_ns_ + seconds_to_ns(o_.duration_s) : UINT64_MAX;
  take_sample();
  if (o_.rate > 0) {
    for (auto& c : conns_) make_idle(c.get());
    on_arrival();
  } else {
    start_timer(tick_, &loop_, this, 1, [](LoadRunner* r) { r->on_tick(); });
    on_tick();
  }
}

uint64_t LoadRunner::arrival_limit() const {
  uint64_t by_duration =
      o_.duration_s > 0 ? static_cast<uint64_t>(std::ceil(o_.duration_s * o_.rate)) : UINT64_MAX;
  return o_.requests > 0 ? std::min(by_duration, o_.requests) : by_duration;
}

uint64_t LoadRunner::intended(uint64_t i) const {
  return t0_ns_ + static_cast<uint64_t>(static_cast<long double>(i) * 1e9L /
                                        static_cast<long double>(o_.rate));
}

void LoadRunner::on_arrival() {
  if (phase_ != Phase::kRunning) return;
  uint64_t now = uv_hrtime();
  uint64_t limit = arrival_limit();
  auto due = static_cast<uint64_t>(static_cast<long double>(now - t0_ns_) *
                                   static_cast<long double>(o_.rate) / 1e9L) +
             1;
  scheduled_ = std::max(scheduled_, std::min(due, limit));
  dispatch();
  if (scheduled_ < limit) {
    arrivals_.arm_at(intended(scheduled_));
  } else {
    run_end_ns_ = std::min(run_end_ns_, intended(limit));
    begin_drain(now);
  }
}

void LoadRunner::dispatch() {
  while (dispatched_ < scheduled_ && !idle_.empty()) {
    Connection* c = idle_.back();
    idle_.pop_back();
    in_idle_[c->id()] = 0;
    if (c->state() != Connection::State::kReady) continue;  // closed since it was parked
    start(c, intended(dispatched_++));
  }
}

void LoadRunner::make_idle(Connection* c) {
  if (c->state() != Connection::State::kReady || in_idle_[c->id()] != 0) return;
  in_idle_[c->id()] = 1;
  idle_.push_back(c);
  dispatch();
}

bool LoadRunner::may_start_closed(uint64_t now_ns) const {
  return phase_ == Phase::kRunning && now_ns < run_end_ns_ &&
         (o_.requests == 0 || issued_ < o_.requests);
}

void LoadRunner::start(Connection* c, uint64_t intended_ns) {
  ++issued_;
  ++open_;
  ++metrics_->started;
  metrics_->peak_open = std::max(metrics_->peak_open, open_);
  c->start_request(intended_ns, intended_ns >= measure_from_ns_);
}

void LoadRunner::on_tick() {
  uint64_t now = uv_hrtime();
  if (phase_ == Phase::kRunning && o_.rate <= 0) {
    size_t target = conns_.size();
    if (o_.ramp_s > 0) {
      auto frac = static_cast<double>(now - t0_ns_) / (o_.ramp_s * 1e9);
      target = std::min(conns_.size(),
                        static_cast<size_t>(frac * static_cast<double>(conns_.size())) + 1);
    }
    while (ramp_next_ < target && may_start_closed(now)) {
      Connection* c = conns_[ramp_next_++].get();
      if (c->state() == Connection::State::kReady) start(c, now);
    }
    if (ramp_next_ >= conns_.size()) tick_.reset();  // ramp over: the sweep does the rest
  }
  maybe_finish_run(now);
}

void LoadRunner::on_sweep() {
  uint64_t now = uv_hrtime();
  if (phase_ == Phase::kConnecting && now - t0_ns_ > kConnectDeadlineNs) {
    if (ready_ == 0) {
      setup_error_ = "could not connect to " + o_.url;
      shutdown();
      return;
    }
    begin_run();  // run with the connections that made it
  }
  uint64_t timeout = seconds_to_ns(o_.timeout_s);
  for (auto& c : conns_) {
    c->check_timeout(now, timeout);
    // Reconnect what failed to connect (closed ones that had connected are
    // reconnected at once in on_closed).
    bool wanted = phase_ == Phase::kConnecting ? c->id() < next_connect_
                  : phase_ == Phase::kRunning  ? o_.rate > 0 || may_start_closed(now)
                                               : false;
    if (c->state() == Connection::State::kClosed && wanted &&
        connecting_ < static_cast<size_t>(o_.connect_parallel)) {
      if (phase_ == Phase::kConnecting) ++connecting_;
      c->connect();
    }
  }
  maybe_finish_run(now);
  if (phase_ == Phase::kDraining && now >= drain_deadline_ns_) {
    metrics_->unfinished = open_;
    shutdown();
  }
}

void LoadRunner::maybe_finish_run(uint64_t now_ns) {
  if (phase_ != Phase::kRunning) return;
  bool done = now_ns >= run_end_ns_;
  if (o_.rate > 0) {
    done = done || scheduled_ >= arrival_limit();
  } else if (o_.requests > 0 && issued_ >= o_.requests) {
    done = true;
  }
  if (done) begin_drain(now_ns);
}

void LoadRunner::begin_drain(uint64_t now_ns) {
  if (phase_ != Phase::kRunning) return;
  phase_ = Phase::kDraining;
  duration_bound_ = run_end_ns_ != UINT64_MAX && now_ns >= run_end_ns_;
  if (o_.rate > 0) duration_bound_ = o_.duration_s > 0 && scheduled_ >= arrival_limit();
  tick_.reset();
  arrivals_.disarm();
  drain_deadline_ns_ = now_ns + seconds_to_ns(o_.drain_s);
  if (open_ == 0 && dispatched_ >= scheduled_) shutdown();
}

void LoadRunner::on_request_end(Connection* c, const RequestTiming& t, const ErrorKind* error,
                                int http_status, std::string_view detail) {
  Metrics& m = *metrics_;
  if (open_ > 0) --open_;
  last_end_ns_ = std::max(last_end_ns_, t.end_ns);
  if (error != nullptr) {
    ++m.failed;
    if (t.measured) ++m.measured_failed;
    m.record_error(*error, http_status, detail);
  } else {
    ++m.ok;
    if (t.end_ns >= measure_from_ns_ && t.end_ns <= run_end_ns_) ++m.window_ok;
    if (t.measured) {
      ++m.measured_ok;
      if (t.first_byte_ns != 0) m.ttfb.record(t.first_byte_ns - t.intended_ns);
      if (t.first_content_ns != 0) m.ttfc.record(t.first_content_ns - t.intended_ns);
      m.total.record(t.end_ns - t.intended_ns);
      m.service.record(t.end_ns - t.sent_ns);
      m.queue.record(t.sent_ns >= t.intended_ns ? t.sent_ns - t.intended_ns : 0);
      if (t.new_chat_ns != 0) m.new_chat.record(t.new_chat_ns);
    }
  }
  if (phase_ == Phase::kClosing || phase_ == Phase::kDone) return;
  uint64_t now = t.end_ns;
  if (c->state() == Connection::State::kReady) {
    if (o_.rate > 0) {
      make_idle(c);
    } else if (may_start_closed(now)) {
      start(c, uv_hrtime());
    }
  }
  maybe_finish_run(now);
  if (phase_ == Phase::kDraining && open_ == 0 && (o_.rate <= 0 || dispatched_ >= scheduled_)) {
    shutdown();
  }
}

void LoadRunner::on_content_chunk(Connection*, uint64_t now_ns, const RequestTiming& t,
                                  uint64_t gap_ns) {
  Metrics& m = *metrics_;
  ++m.content_chunks;
  if (now_ns >= measure_from_ns_ && now_ns <= run_end_ns_) ++m.window_chunks;
  if (t.measured && t.content_chunks > 1) m.gap.record(gap_ns);
}

void LoadRunner::on_event_bytes(size_t events, size_t body_bytes) {
  metrics_->events += events;
  metrics_->body_bytes += body_bytes;
}

void LoadRunner::on_closed(Connection* c, bool connect_failed) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kDone) {
    if (++closed_ == conns_.size()) phase_ = Phase::kDone;
    return;
  }
  if (connect_failed) ++metrics_->connect_failures;
  if (phase_ == Phase::kConnecting) {
    if (counted_ready_[c->id()] != 0) {  // it was ready and idle: the server closed it
      counted_ready_[c->id()] = 0;
      --ready_;
    } else if (connecting_ > 0) {  // its connect or pool-chat set-up failed
      --connecting_;
    }
  }
  if (connect_failed) return;  // the sweep retries
  // No new requests once arrivals have stopped: do not reconnect (after a
  // mass failure that would only flood the server with idle connections).
  if (phase_ != Phase::kConnecting && phase_ != Phase::kRunning) return;
  if (phase_ == Phase::kRunning && o_.rate <= 0 && !may_start_closed(uv_hrtime())) return;
  // It had connected, so the server is there: reconnect at once.
  if (phase_ == Phase::kConnecting) ++connecting_;
  c->connect();
}

void LoadRunner::shutdown() {
  if (phase_ == Phase::kClosing || phase_ == Phase::kDone) return;
  phase_ = Phase::kClosing;
  take_sample();
  tick_.reset();
  sweep_.reset();
  sampler_.reset();
  arrivals_.close();
  if (o_.rate > 0) metrics_->not_sent = scheduled_ - std::min(scheduled_, dispatched_);
  closed_ = 0;
  for (auto& c : conns_) {
    if (c->state() == Connection::State::kClosed) {
      ++closed_;
    } else {
      c->close();
    }
  }
  if (closed_ == conns_.size()) phase_ = Phase::kDone;
}

void LoadRunner::take_sample() {
  Sample s;
  s.t_ns = static_cast<int64_t>(uv_hrtime());
  s.open = open_;
  s.ok = metrics_->ok;
  s.chunks = metrics_->content_chunks;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  s.self_cpu_us = static_cast<uint64_t>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1'000'000 +
                  static_cast<uint64_t>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  s.groups.reserve(o_.groups.size());
  for (const ProcGroup& g : o_.groups) {
    GroupSample gs;
    for (pid_t pid : g.pids) {
      if (auto p = read_proc_sample(pid)) {
        gs.rss_bytes += p->rss_bytes;
        gs.cpu_ticks += p->cpu_ticks;
        ++gs.alive;
      }
    }
    s.groups.push_back(gs);
  }
  metrics_->samples.push_back(std::move(s));
}

std::string LoadRunner::report() const {
  RunInfo info;
  info.label = o_.label;
  info.url = o_.url;
  info.api = std::string(api_name(o_.api));
  info.qwen_chat = std::string(qwen_chat_name(o_.qwen_chat));
  info.stream = o_.api == Api::kQwen ? true : o_.stream;
  info.model = o_.model;
  info.prompt_bytes = o_.prompt.size();
  info.connections = o_.connections;
  info.rate = o_.rate;
  info.duration_s = o_.duration_s;
  info.requests = o_.requests;
  info.warmup_s = o_.warmup_s;
  info.ramp_s = o_.ramp_s;
  info.window_s = window_s_;
  info.elapsed_s = elapsed_s_;
  info.generator_cpu_s = self_cpu_s_;
  info.generator_rss_bytes = self_rss_bytes_;
  return report_json(info, *metrics_);
}

}  // namespace qp::bench
