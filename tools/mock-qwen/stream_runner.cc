#include "tools/mock-qwen/stream_runner.h"

#include <algorithm>
#include <ctime>
#include <exception>

#include "common/log.h"

namespace qp::mock {

std::string_view stream_outcome_name(StreamOutcome outcome) {
  switch (outcome) {
    case StreamOutcome::kFinished:
      return "finished";
    case StreamOutcome::kStopped:
      return "stopped";
    case StreamOutcome::kAborted:
      return "aborted";
    case StreamOutcome::kError:
      return "error";
    case StreamOutcome::kDropped:
      return "dropped";
  }
  return "error";
}

struct StreamRunner::Live {
  StreamRunner* runner = nullptr;
  uint64_t id = 0;
  StreamJob job;
  enum class State : uint8_t { kWaiting, kRunning, kParked, kDone } state = State::kWaiting;
  Action next = Action::kBegin;
  EventKind last_kind = EventKind::kCreated;
  Action last_action = Action::kBegin;
  uv::Timer timer;
  bool timer_ready = false;
  bool in_ready = false;
  bool content_sent = false;       // a content event was produced
  bool first_answer_done = false;  // the first non-empty answer token was written
  int64_t wait_left_ms = 0;        // rest of a wait interrupted by a keep-alive
  std::string pending;             // bytes of the current event not yet written
  size_t pending_off = 0;
};

namespace {

bool is_content(EventKind k) {
  return k == EventKind::kSearchCall || k == EventKind::kSearchResult ||
         k == EventKind::kResearch || k == EventKind::kResearchSites || k == EventKind::kThink ||
         k == EventKind::kSummary || k == EventKind::kAnswer || k == EventKind::kTrailer;
}

int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

StreamRunner::StreamRunner(uv_loop_t* loop, DoneFn done) : loop_(loop), done_(std::move(done)) {
  uv_idle_init(loop_, idle_.get());
  idle_.get()->data = this;
}

StreamRunner::~StreamRunner() { shutdown(); }

StreamRunner::Live* StreamRunner::find(uint64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void StreamRunner::start(StreamJob job) {
  if (shut_down_) return;
  auto live = std::make_unique<Live>();
  Live& s = *live;
  s.runner = this;
  s.id = next_id_++;
  s.job = std::move(job);
  streams_.emplace(s.id, std::move(live));
  ++active_;
  uint64_t id = s.id;
  s.job.exchange.on_abort([this, id] { on_abort(id); });
  schedule(s, s.job.timing.first_byte_delay_ms);
}

size_t StreamRunner::stop_chat(std::string_view chat_id) {
  size_t n = 0;
  for (auto& [id, live] : streams_) {
    Live& s = *live;
    if (s.state == Live::State::kDone || s.job.chat_id != chat_id) continue;
    s.job.stream->stop();
    ++n;
    if (s.state == Live::State::kParked) {
      parked_.erase(s.id);
      s.state = Live::State::kRunning;
    }
    // Send `finished` promptly instead of after the current wait, unless the
    // headers are not out yet (a slow first byte stays slow).
    if (s.state == Live::State::kRunning && s.pending_off >= s.pending.size()) {
      s.next = Action::kEvent;
      schedule(s, 0);
    }
  }
  return n;
}

size_t StreamRunner::release() {
  hold_ = false;
  std::vector<uint64_t> ids(parked_.begin(), parked_.end());
  parked_.clear();
  for (uint64_t id : ids) {
    Live* s = find(id);
    if (s == nullptr || s->state != Live::State::kParked) continue;
    s->state = Live::State::kRunning;
    after_write(*s);  // continues with the normal pacing
  }
  return ids.size();
}

void StreamRunner::schedule(Live& s, int64_t delay_ms) {
  if (s.state == Live::State::kDone) return;
  if (s.timer_ready) uv_timer_stop(s.timer.get());
  if (delay_ms <= 0) {
    if (!s.in_ready) {
      s.in_ready = true;
      ready_.push_back(s.id);
      ensure_idle();
    }
    return;
  }
  if (!s.timer_ready) {
    uv_timer_init(loop_, s.timer.get());
    s.timer.get()->data = &s;
    s.timer_ready = true;
  }
  // The loop's cached time may be a little stale; refresh it so a delay is
  // never shorter than asked (tests measure lower bounds).
  uv_update_time(loop_);
  uv_timer_start(s.timer.get(), &StreamRunner::on_timer, static_cast<uint64_t>(delay_ms), 0);
}

void StreamRunner::ensure_idle() {
  if (idle_running_ || shut_down_) return;
  uv_idle_start(idle_.get(), &StreamRunner::on_idle);
  idle_running_ = true;
}

void StreamRunner::on_timer(uv_timer_t* t) {
  auto* s = static_cast<Live*>(t->data);
  if (s == nullptr) return;
  StreamRunner* self = s->runner;
  try {
    self->run(*s);
  } catch (const std::exception& e) {
    QP_ERROR("mock.stream_failed").kv("error", e.what());
    self->complete(*s, StreamOutcome::kError);
  } catch (...) {
    QP_ERROR("mock.stream_failed").kv("error", "unknown exception");
    self->complete(*s, StreamOutcome::kError);
  }
}

void StreamRunner::on_idle(uv_idle_t* h) {
  auto* self = static_cast<StreamRunner*>(h->data);
  if (self == nullptr) return;
  // Destroy streams that ended on an earlier turn (their callbacks are done).
  if (!self->reap_.empty()) {
    std::vector<uint64_t> reap;
    reap.swap(self->reap_);
    for (uint64_t id : reap) self->streams_.erase(id);
  }
  // One event per ready stream; streams re-queued now run on the next turn.
  size_t n = self->ready_.size();
  for (size_t i = 0; i < n && !self->ready_.empty(); ++i) {
    uint64_t id = self->ready_.front();
    self->ready_.pop_front();
    Live* s = self->find(id);
    if (s == nullptr) continue;
    s->in_ready = false;
    try {
      self->run(*s);
    } catch (const std::exception& e) {
      QP_ERROR("mock.stream_failed").kv("error", e.what());
      self->complete(*s, StreamOutcome::kError);
    } catch (...) {
      QP_ERROR("mock.stream_failed").kv("error", "unknown exception");
      self->complete(*s, StreamOutcome::kError);
    }
  }
  if (self->ready_.empty() && self->reap_.empty()) {
    uv_idle_stop(self->idle_.get());
    self->idle_running_ = false;
  }
}

void StreamRunner::run(Live& s) {
  if (s.state == Live::State::kDone || s.state == Live::State::kParked) return;
  if (s.pending_off < s.pending.size()) {  // the rest of a chunked event
    if (pump(s)) after_write(s);
    return;
  }
  produce(s);
  if (s.state == Live::State::kDone) return;
  if (pump(s)) after_write(s);
}

void StreamRunner::produce(Live& s) {
  s.pending.clear();
  s.pending_off = 0;
  AnswerStream& stream = *s.job.stream;
  s.last_action = s.next;
  switch (s.next) {
    case Action::kBegin: {
      http::Headers headers{{"content-type", "text/event-stream; charset=utf-8"},
                            {"cache-control", "no-cache"},
                            {"x-accel-buffering", "no"}};
      s.job.exchange.start_stream(200, std::move(headers));
      s.state = Live::State::kRunning;
      s.last_kind = stream.next(&s.pending, now_s());  // response.created
      if (s.job.timing.keepalive_ms > 0) stream.append_keep_alive(&s.pending, now_s());
      break;
    }
    case Action::kKeepAlive:
      stream.append_keep_alive(&s.pending, now_s());
      break;
    case Action::kEvent: {
      EventKind kind = stream.peek();
      if (kind == EventKind::kEnd) {
        complete(s, stream.stopped() ? StreamOutcome::kStopped : StreamOutcome::kFinished);
        return;
      }
      if (kind == EventKind::kDrop) {
        stream.next(&s.pending, now_s());
        complete(s, StreamOutcome::kDropped);
        return;
      }
      s.last_kind = stream.next(&s.pending, now_s());
      if (is_content(s.last_kind)) s.content_sent = true;
      break;
    }
  }
}

bool StreamRunner::pump(Live& s) {
  http::Exchange& ex = s.job.exchange;
  if (s.pending_off >= s.pending.size()) return true;
  if (ex.queued_bytes() > s.job.timing.backpressure_bytes) {
    schedule(s, 1);  // the client reads slowly: try again shortly
    return false;
  }
  size_t left = s.pending.size() - s.pending_off;
  size_t n = s.job.timing.chunk_bytes > 0 ? std::min(left, s.job.timing.chunk_bytes) : left;
  bool last_piece = n == left;
  std::string piece;
  if (s.pending_off == 0 && last_piece) {
    piece = std::move(s.pending);  // the common case: the whole event, no copy
  } else {
    piece = s.pending.substr(s.pending_off, n);
  }
  s.pending_off += n;
  if (last_piece) {
    s.pending.clear();
    s.pending_off = 0;
  }
  if (!ex.write(std::move(piece))) {
    complete(s, StreamOutcome::kAborted);
    return false;
  }
  if (s.state == Live::State::kDone) return false;  // aborted from inside write()
  if (!last_piece) {
    schedule(s, 0);  // next piece on the next loop turn: separate TCP writes
    return false;
  }
  return true;
}

void StreamRunner::after_write(Live& s) {
  if (s.state == Live::State::kDone) return;
  AnswerStream& stream = *s.job.stream;
  if (s.last_action == Action::kEvent && s.last_kind == EventKind::kError) {
    complete(s, StreamOutcome::kError);
    return;
  }
  if (s.last_action == Action::kKeepAlive) {
    s.next = Action::kEvent;
    s.last_action = Action::kEvent;  // a release() must not repeat this branch
    wait(s, s.wait_left_ms);
    return;
  }
  if (s.last_kind == EventKind::kAnswer && !s.first_answer_done &&
      stream.answer_tokens_sent() > 0) {
    s.first_answer_done = true;
    if (hold_ && !stream.stopped()) {
      s.state = Live::State::kParked;
      parked_.insert(s.id);
      return;
    }
  }
  s.next = Action::kEvent;
  EventKind kind = stream.peek();
  if (kind == EventKind::kEnd) {
    complete(s, stream.stopped() ? StreamOutcome::kStopped : StreamOutcome::kFinished);
    return;
  }
  int64_t delay = s.job.timing.token_delay_ms;
  if (is_content(kind) && !s.content_sent) delay = s.job.timing.first_token_delay_ms;
  if (kind == EventKind::kSearchResult && s.job.timing.search_delay_ms > 0)
    delay = s.job.timing.search_delay_ms;
  if (kind == EventKind::kResearchSites && s.job.timing.research_delay_ms > 0)
    delay = s.job.timing.research_delay_ms;
  if (stream.stopped() || kind == EventKind::kDone) delay = 0;
  wait(s, delay);
}

void StreamRunner::wait(Live& s, int64_t delay_ms) {
  int64_t ka = s.job.timing.keepalive_ms;
  if (ka > 0 && delay_ms > ka) {
    s.wait_left_ms = delay_ms - ka;
    s.next = Action::kKeepAlive;
    schedule(s, ka);
    return;
  }
  s.wait_left_ms = 0;
  schedule(s, delay_ms);
}

void StreamRunner::complete(Live& s, StreamOutcome outcome) {
  if (s.state == Live::State::kDone) return;
  bool started = s.state != Live::State::kWaiting;
  s.state = Live::State::kDone;
  if (s.timer_ready) uv_timer_stop(s.timer.get());
  parked_.erase(s.id);
  http::Exchange& ex = s.job.exchange;
  switch (outcome) {
    case StreamOutcome::kFinished:
    case StreamOutcome::kStopped:
    case StreamOutcome::kError:
      if (started) ex.end();
      break;
    case StreamOutcome::kDropped:
      // A real drop: the connection is reset after the events already
      // written (no terminating chunk), as when Qwen's side breaks mid-answer.
      ex.abort();
      break;
    case StreamOutcome::kAborted:
      break;
  }
  --active_;
  try {
    if (done_) done_(s.job, outcome);
  } catch (const std::exception& e) {
    QP_ERROR("mock.stream_done_failed").kv("error", e.what());
  } catch (...) {
    QP_ERROR("mock.stream_done_failed").kv("error", "unknown exception");
  }
  reap_.push_back(s.id);
  ensure_idle();
}

void StreamRunner::on_abort(uint64_t id) {
  Live* s = find(id);
  if (s != nullptr) complete(*s, StreamOutcome::kAborted);
}

void StreamRunner::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& [id, live] : streams_) complete(*live, StreamOutcome::kAborted);
  streams_.clear();
  ready_.clear();
  reap_.clear();
  parked_.clear();
  idle_running_ = false;
  idle_.reset();
}

}  // namespace qp::mock
