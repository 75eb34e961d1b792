// One /v1/messages request in flight: receives the job's messages from the
// broker and writes the Anthropic response, as SSE events (stream:true) or
// one `message` object (message_events.h renders both).
//
// As with ChatCall, response headers wait for the job's first output, so a
// failure before it still gets its Anthropic status and error body; later
// failures become an `error` event. While streaming, a `ping` event is sent
// every kPingIntervalMs so that idle proxies keep the connection open during
// long silences (thinking that is not shown, slow tools).
#pragma once

#include <string>

#include <uv.h>

#include "common/http/server.h"
#include "common/uv/handle.h"
#include "frontend/anthropic/message_events.h"
#include "frontend/api_call.h"
#include "frontend/client_auth.h"
#include "frontend/request_observer.h"

namespace qp::frontend::anthropic {

inline constexpr uint64_t kPingIntervalMs = 10'000;

class MessagesCall : public ApiCall {
 public:
  MessagesCall(uv_loop_t* loop, http::Exchange exchange, std::string request_id, bool stream,
               MessageEvents events, uint64_t ping_interval_ms = kPingIntervalMs);

  void on_chunk(const protocol::JobChunk& chunk) override;
  void on_done(const protocol::JobDone& done) override;
  void fail(const ApiError& error) override;

 private:
  void start_stream();
  void flush();
  void on_ping();

  uv_loop_t* loop_;
  http::Exchange exchange_;
  std::string request_id_;
  bool stream_;
  MessageEvents events_;
  uint64_t ping_interval_ms_;
  bool started_ = false;
  std::string out_;  // reused SSE buffer
  uv::Timer ping_;
};

}  // namespace qp::frontend::anthropic
