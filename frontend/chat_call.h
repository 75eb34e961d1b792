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
  // An unfinished call reports on_end (499) to its observer.
  ~ChatCall() override { abandon("the request ended before it finished"); }
  ChatCall(const ChatCall&) = delete;
  ChatCall& operator=(const ChatCall&) = delete;

  void on_chunk(const protocol::JobChunk& chunk) override;
  void on_done(const protocol::JobDone& done) override;
  void on_error(const protocol::JobError& error) override;
  void on_models(const protocol::ModelList& models) override;

  // Keeps the client key's slot until the call is destroyed; on_done counts
  // the usage for the key.
  void hold(KeyLease lease) { lease_ = std::move(lease); }
  // Reports this call's life to `observer` (which must outlive the call):
  // on_start now, then on_first_content and on_end (request_observer.h).
  // `record` describes the request (id, endpoint, model, key, stream, start).
  void observe(RequestObserver* observer, RequestRecord record);
  // The client went away or the call was dropped unfinished: reports on_end
  // with status 499 (no response is written). No-op once finished.
  void abandon(std::string_view why) override;
  const RequestRecord& record() const override { return record_; }
  // Ends the call with an error (before or during streaming).
  void fail(const ApiError& error) override;
  bool finished() const { return finished_; }
  const std::string& request_id() const { return request_id_; }
  http::Exchange& exchange() { return exchange_; }

 private:
  void start_stream();
  void count_chunk(bool has_content);
  void report_end(const RequestOutcome& outcome);
  http::Headers base_headers(const char* content_type) const;

  http::Exchange exchange_;
  std::string request_id_;
  bool stream_;
  bool include_usage_;
  bool want_json_;
  CompletionJson json_;
  bool started_ = false;
  bool finished_ = false;
  std::string content_;               // non-streaming accumulation (and streaming when want_json_)
  std::string reasoning_;             // non-streaming accumulation
  std::vector<ToolCall> tool_calls_;  // non-streaming accumulation, by delta index
  std::string out_;                   // reused SSE buffer
  KeyLease lease_;
  RequestObserver* observer_ = nullptr;
  RequestRecord record_;
};

// Headers every API response carries.
http::Headers api_headers(const std::string& request_id, const char* content_type);

}  // namespace qp::frontend
