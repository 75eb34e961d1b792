// One /v1/chat/completions request in flight: receives the job's messages
// from the broker and writes the OpenAI response, either as SSE
// (stream:true) or as one chat.completion object.
//
// Response headers are delayed until the first delta, so a failure before
// the first byte still gets its proper HTTP status and OpenAI error body.
#pragma once

#include <string>
#include <vector>

#include "common/http/server.h"
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

  void on_chunk(const protocol::JobChunk& chunk) override;
  void on_done(const protocol::JobDone& done) override;

  void fail(const ApiError& error) override;
  const std::string& request_id() const { return request_id_; }
  http::Exchange& exchange() { return exchange_; }

 private:
  void start_stream();
  http::Headers base_headers(const char* content_type) const;

  http::Exchange exchange_;
  std::string request_id_;
  bool stream_;
  bool include_usage_;
  bool want_json_;
  CompletionJson json_;
  bool started_ = false;
  std::string content_;               // non-streaming accumulation (and streaming when want_json_)
  std::string reasoning_;             // non-streaming accumulation
  std::vector<ToolCall> tool_calls_;  // non-streaming accumulation, by delta index
  std::string out_;                   // reused SSE buffer
};

// Headers every API response carries.
http::Headers api_headers(const std::string& request_id, const char* content_type);

}  // namespace qp::frontend
