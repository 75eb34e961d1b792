// The parse step of one uploaded document (docs/upstream.md, "Images and
// files in", item 4; worker/file_parse.h has the requests and the policy):
// POST /api/v2/files/parse {file_id}, then POST /api/v2/files/parse/status
// every limits.interval_ms (a uv timer, never a sleep) until the file is
// parsed, a failure shape is seen, or limits.max_polls polls went by. Both
// requests run on the client's curl multi. Not retried: an outage or a WAF
// challenge would not change on a second try, and a hang is bounded by the
// poll limit and the per-request upload_timeout_ms.
//
// Callbacks: `done` runs from the timer (never inside a libcurl callback),
// once, unless cancel() came first; the owner may not destroy the ParseCall
// inside it. Thread: the loop's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/uv/handle.h"
#include "worker/file_parse.h"
#include "worker/http_request.h"
#include "worker/upstream_errors.h"

namespace qp::worker {

class QwenClient;

class ParseCall final : private HttpRequest::Listener {
 public:
  // failure == nullptr: the document is parsed.
  using Done = std::function<void(const UpstreamFailure* failure)>;
  ParseCall(QwenClient* client, std::string request_id, std::string file_id, ParseLimits limits,
            Done done);
  ~ParseCall();
  ParseCall(const ParseCall&) = delete;
  ParseCall& operator=(const ParseCall&) = delete;

  Status start();  // the parse request goes out on the next loop turn
  void cancel();
  uint32_t polls() const { return polls_; }

 private:
  enum class Step { kIdle, kParse, kStatus, kEnded };
  HttpRequest::Listener* listener() { return this; }
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult result) override;
  void schedule(uint64_t delay_ms);
  void on_timer();
  void send();
  // Ends with `f` (nullptr: parsed) from the timer.
  void end_soon(std::optional<UpstreamFailure> f);

  QwenClient* client_;
  std::string request_id_;
  std::string file_id_;
  ParseLimits limits_;
  Done done_;
  Step step_ = Step::kIdle;
  uint32_t polls_ = 0;
  bool ending_ = false;
  std::optional<UpstreamFailure> outcome_;
  std::unique_ptr<HttpRequest> request_;
  uv::Timer timer_;
};

}  // namespace qp::worker
