// One API request in flight, whatever its wire format (OpenAI chat
// completions: ChatCall; Anthropic messages: anthropic::MessagesCall): the
// JobSink the broker feeds, plus what the frontend needs to end it.
#pragma once

#include <string_view>

#include "frontend/broker_client.h"
#include "frontend/openai/api_error.h"
#include "frontend/request_observer.h"

namespace qp::frontend {

class ApiCall : public JobSink {
 public:
  // Ends the call with an error (before or during streaming).
  virtual void fail(const ApiError& error) = 0;
  // The client went away or the call was dropped unfinished: reports on_end
  // with status 499 (no response is written). No-op once finished.
  virtual void abandon(std::string_view why) = 0;
  // What the observers were told about this request so far (admin API's
  // live requests: id, model, account once known, chunks).
  virtual const RequestRecord& record() const = 0;
};

}  // namespace qp::frontend
