// One /v1/chat/completions request in flight: receives the job's messages
// from the broker and writes the OpenAI response, either as SSE
// (stream:true) or as one chat.completion object.
//
// Response headers are delayed until the first delta, so a failure before
// the first byte still gets its proper HTTP status and OpenAI error body,
// unless the silence lasts long enough for a keep-alive
// (start_keepalive): then the stream starts and a later failure is an
// error event.
//
// Keep-alives: one repeating uv timer per streamed call, never touched per
// chunk (a write only sets a flag). Each tick sends the SSE comment
// `: keep-alive` if nothing was written since the previous tick, so a
// silence (web search, a long wait for the first token, thinking that is
// not streamed) gets a comment within one to two intervals.
#pragma once

#include <string>
#include <vector>

#include <uv.h>

#include "common/conversation/assistant_message.h"
#include "common/http/server.h"
#include "common/uv/handle.h"
#include "frontend/api_call.h"
#include "frontend/broker_client.h"
#include "frontend/client_auth.h"
#include "frontend/openai/api_error.h"
#include "frontend/openai/completion_json.h"
#include "frontend/request_observer.h"

namespace qp::frontend {

class ChatCall : public ApiCall {
 public:
  // want_json: response_format asked for JSON; the call reports whether the
  // answer parsed (extension field qwen_json_valid).
  ChatCall(http::Exchange exchange, std::string request_id, std::string model, bool stream,
           bool include_usage, int64_t created_unix_s, bool want_json = false);

  // Streamed calls: keep-alive comments every interval_ms of silence
  // (0 = never). The loop must outlive the call.
  void start_keepalive(uv_loop_t* loop, uint64_t interval_ms);

  void on_chunk(const protocol::JobChunk& chunk) override;
  void on_done(const protocol::JobDone& done) override;

  void fail(const ApiError& error) override;
  const std::string& request_id() const { return request_id_; }
  http::Exchange& exchange() { return exchange_; }

 private:
  void start_stream();
  void on_keepalive();
  http::Headers base_headers(const char* content_type) const;

  http::Exchange exchange_;
  std::string request_id_;
  bool stream_;
  bool include_usage_;
  bool want_json_;
  CompletionJson json_;
  bool started_ = false;
  // The answer as returned (non-streaming; streaming: its text, when want_json_).
  conversation::AssistantMessage message_;
  std::string reasoning_;      // non-streaming accumulation
  std::string out_;            // reused SSE buffer
  int64_t content_chars_ = 0;  // streamed content's code points (annotation spans)
  uv::Timer keepalive_;
  bool wrote_ = false;  // output since the last keep-alive tick
};

// Headers every API response carries.
http::Headers api_headers(const std::string& request_id, const char* content_type);

}  // namespace qp::frontend
