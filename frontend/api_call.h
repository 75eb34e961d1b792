// One API request in flight, whatever its wire format (OpenAI chat
// completions: ChatCall; Anthropic messages: anthropic::MessagesCall): the
// JobSink the broker feeds, plus what the frontend needs to end it.
//
// The base keeps what every format shares: the client key's lease, the
// "finished" state and the reports to the RequestObserver
// (request_observer.h: on_start at observe(), on_first_content at the first
// chunk with content, on_end exactly once: at DONE, at an error, or 499 when
// the call is abandoned or destroyed unfinished).
#pragma once

#include <string>
#include <string_view>

#include "common/http/server.h"
#include "frontend/broker_client.h"
#include "frontend/client_auth.h"
#include "frontend/openai/api_error.h"
#include "frontend/request_observer.h"

namespace qp::frontend {

class ApiCall : public JobSink {
 public:
  ApiCall() = default;
  ~ApiCall() override { abandon("the request ended before it finished"); }
  ApiCall(const ApiCall&) = delete;
  ApiCall& operator=(const ApiCall&) = delete;

  // Ends the call with an error (before or during streaming).
  virtual void fail(const ApiError& error) = 0;
  // A job's ERROR ends the call with that error; MODELS is not a reply to
  // an API call.
  void on_error(const protocol::JobError& e) override;
  void on_models(const protocol::ModelList& models) override;
  // The client went away or the call was dropped unfinished: reports on_end
  // with status 499 (no response is written). No-op once finished.
  void abandon(std::string_view why);
  // Keeps the client key's slot until the call is destroyed; DONE counts
  // the usage for the key.
  void hold(KeyLease lease) { lease_ = std::move(lease); }
  // Reports this call's life to `observer` (which must outlive the call):
  // on_start now. `record` describes the request.
  void observe(RequestObserver* observer, RequestRecord record);
  // What the observers were told about this request so far (admin API's
  // live requests: id, model, account once known, chunks).
  const RequestRecord& record() const { return record_; }
  bool finished() const { return finished_; }

 protected:
  // Marks the call finished; false if it already was (nothing more to do).
  bool finish();
  // Per CHUNK: the account (named on a job's first CHUNK only) and, for a
  // chunk with content, the chunk count and first-content time.
  void note_chunk(const protocol::JobChunk& chunk, bool has_content);
  // DONE: the key's usage, the account, and on_end.
  void report_done(const protocol::JobDone& done, std::string_view finish_reason);
  // An error end: on_end with the status and error type the client gets.
  void report_failure(int http_status, std::string_view error_type, const ApiError& error);

  // What every wire format writes alike:
  // the SSE response head (200, no caching, no proxy buffering);
  static void start_sse(http::Exchange& ex, const std::string& request_id);
  // an error answered before any byte: `status`, the format's `body`, and
  // Retry-After when the error has one;
  static void respond_error(http::Exchange& ex, const std::string& request_id, int status,
                            std::string body, const ApiError& error);
  // the request.done / request.failed log lines.
  static void log_done(const std::string& request_id, std::string_view finish_reason,
                       const protocol::JobDone& done);
  static void log_failed(const std::string& request_id, const ApiError& error);

 private:
  void report_end(const RequestOutcome& outcome);

  KeyLease lease_;
  RequestObserver* observer_ = nullptr;
  RequestRecord record_;
  bool finished_ = false;
};

}  // namespace qp::frontend
