// One POST /v1/responses request in flight: receives the job's messages from
// the broker and writes the Responses API answer, as SSE events
// (stream:true) or one Response object (response_events.h renders both).
// On DONE, with store:true, the Response and the conversation so far (the
// request's items plus this response's output) go to the ResponseStore
// before the answer is sent, so a client that has the id can use it at once.
//
// As with ChatCall, response headers wait for the job's first output, so a
// failure before it still gets its HTTP status and OpenAI error body; a later
// failure becomes an `error` event and response.failed.
//
// Keep-alives as ChatCall's: streamed calls send the SSE comment
// `: keep-alive` after an interval without output (a long first-token wait,
// deep research's silent search steps); SSE parsers ignore comments.
#pragma once

#include <string>

#include <uv.h>

#include "common/http/server.h"
#include "common/uv/handle.h"
#include "frontend/api_call.h"
#include "frontend/responses/response_events.h"
#include "frontend/responses/response_store.h"

namespace qp::frontend::responses {

class ResponsesCall : public ApiCall {
 public:
  // store: where a finished response is kept (nullptr: store:false);
  // conversation_items: the request's history and input as items (JSON
  // array), kept with the response.
  ResponsesCall(http::Exchange exchange, std::string request_id, bool stream, ResponseEvents events,
                ResponseStore* store, std::string conversation_items);

  // Streamed calls: keep-alive comments every interval_ms of silence
  // (0 = never). The loop must outlive the call.
  void start_keepalive(uv_loop_t* loop, uint64_t interval_ms);

  void on_chunk(const protocol::JobChunk& chunk) override;
  void on_done(const protocol::JobDone& done) override;
  void fail(const ApiError& error) override;

 private:
  void start_stream();
  void flush();
  void on_keepalive();

  http::Exchange exchange_;
  std::string request_id_;
  bool stream_;
  ResponseEvents events_;
  ResponseStore* store_;
  std::string conversation_items_;
  bool started_ = false;
  std::string out_;  // reused SSE buffer
  uv::Timer keepalive_;
  bool wrote_ = false;  // output since the last keep-alive tick
};

}  // namespace qp::frontend::responses
