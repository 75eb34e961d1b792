// Drives the streamed completions on the loop: paces the events of each
// AnswerStream (first-byte delay, first-token delay, per-token delay, 2026
// keep-alives), splits events into chunk_bytes pieces, respects socket
// backpressure, parks streams for /__mock/hold and stops them for
// /completions/stop. Loop thread only.
//
// Scheduling: a delay > 0 uses the stream's own libuv timer. A delay of 0
// puts the stream on a ready queue served by one uv_idle handle, one event per
// stream per loop turn, so thousands of streams interleave and the loop still
// polls sockets between turns (a 0 ms timer re-armed from its own callback
// would starve the loop on libuv 1.44).
//
// Lifetime: streams are keyed by id; a finished stream is destroyed on a later
// loop turn (never inside its own callback). The exchange's on_abort marks the
// stream aborted.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <uv.h>

#include "common/http/server.h"
#include "common/uv/handle.h"
#include "tools/mock-qwen/answer_stream.h"

namespace qp::mock {

enum class StreamOutcome : uint8_t { kFinished, kStopped, kAborted, kError, kDropped };
std::string_view stream_outcome_name(StreamOutcome outcome);

struct StreamTiming {
  int64_t first_byte_delay_ms = 0;   // before the response headers
  int64_t first_token_delay_ms = 0;  // before the first content event
  int64_t token_delay_ms = 0;        // before every later event
  int64_t search_delay_ms = 0;       // > 0: before the search result (the search phase)
  int64_t research_delay_ms = 0;     // > 0: before each research round's sources (silent)
  int64_t keepalive_ms = 0;          // >0: response.info keep-alive during longer waits
  size_t chunk_bytes = 0;            // >0: write events in pieces of this size, one per turn
  size_t backpressure_bytes = 256 * 1024;
};

struct StreamJob {
  http::Exchange exchange;
  std::unique_ptr<AnswerStream> stream;
  StreamTiming timing;
  std::string chat_id;
  uint64_t record_seq = 0;
};

class StreamRunner {
 public:
  // Called exactly once per stream when it ends (on the loop).
  using DoneFn = std::function<void(const StreamJob& job, StreamOutcome outcome)>;

  StreamRunner(uv_loop_t* loop, DoneFn done);
  ~StreamRunner();
  StreamRunner(const StreamRunner&) = delete;
  StreamRunner& operator=(const StreamRunner&) = delete;

  // Takes over the exchange: sends the headers (after first_byte_delay_ms)
  // and streams every event. REQUIRES: job.stream not null.
  void start(StreamJob job);
  // Stops every running stream of chat_id: it sends `finished` next. Returns
  // how many streams were affected.
  size_t stop_chat(std::string_view chat_id);
  // While hold is on, a stream that emits its first non-empty answer token
  // parks until release().
  void set_hold(bool on) { hold_ = on; }
  bool hold() const { return hold_; }
  // Turns hold off and resumes every parked stream. Returns how many resumed.
  size_t release();
  size_t parked() const { return parked_.size(); }
  size_t active() const { return active_; }
  // Ends every stream as aborted and closes all handles. Safe to call twice.
  void shutdown();

 private:
  struct Live;
  enum class Action : uint8_t { kBegin, kKeepAlive, kEvent };

  void run(Live& s);
  void produce(Live& s);
  bool pump(Live& s);  // true when the pending event is completely written
  void after_write(Live& s);
  void wait(Live& s, int64_t delay_ms);
  void schedule(Live& s, int64_t delay_ms);
  void complete(Live& s, StreamOutcome outcome);
  void on_abort(uint64_t id);
  void ensure_idle();
  static void on_idle(uv_idle_t* h);
  static void on_timer(uv_timer_t* t);
  Live* find(uint64_t id);

  uv_loop_t* loop_;
  DoneFn done_;
  uv::Idle idle_;
  bool idle_running_ = false;
  bool shut_down_ = false;
  bool hold_ = false;
  uint64_t next_id_ = 1;
  size_t active_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Live>> streams_;
  std::deque<uint64_t> ready_;
  std::vector<uint64_t> reap_;
  std::unordered_set<uint64_t> parked_;
};

}  // namespace qp::mock
