// One HTTP request to the upstream on a CurlMulti, with the worker's
// timeouts:
//   - connect: CURLOPT_CONNECTTIMEOUT_MS;
//   - first byte: a uv timer from start() until the first body byte;
//   - idle: the same timer, pushed back by every body chunk (checked
//     lazily: a chunk only records the time, the timer re-arms itself);
//   - total (optional, for fire-and-forget calls): CURLOPT_TIMEOUT_MS.
//
// Body delivery: with spec.stream set, a 200 response whose Content-Type is
// text/event-stream is handed to Listener::on_stream_data() piece by piece
// as it arrives. Every other response is buffered whole (up to
// spec.max_body_bytes) and returned in HttpResult::body for classification.
//
// Callbacks: on_stream_data() runs inside libcurl's write callback; the
// listener must not destroy this request or call abort() there (return
// false instead to stop the transfer quietly). on_complete() runs from the
// loop (curl's completion or our timer) exactly once per start(), unless
// the transfer was stopped by abort(), destruction or a false return from
// on_stream_data(). The listener may not destroy the request inside
// on_complete() either; hand it to DeferredDelete.
//
// Memory: once the transfer has ended (before on_complete(), on abort() or
// a false return from on_stream_data()) the easy handle goes back to the
// CurlMulti's pool and the header list and POST body are freed: a finished
// request its owner keeps (ChatCall keeps its chats/new request for the
// whole stream) holds none of libcurl's per-transfer state
// (docs/benchmarks.md, "Step 6: memory per open stream"). The POST body goes
// earlier, at the first response body byte, if curl has sent all of it by
// then (it never resends a request once a response has come): a long
// stream does not keep its request. A request is started at most once.
//
// Recording (spec.recorder set, docs/recording.md): the request, the
// response's status, headers and body or events, and the outcome go to an
// ExchangeRecord as they happen and to the recorder as one line when the
// transfer ends, fails, times out, is stopped or aborted.
//
// Secrets: the URL, headers and cookies are never logged.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/uv/handle.h"
#include "worker/curl_multi.h"
#include "worker/exchange_record.h"
#include "worker/upstream_errors.h"

namespace qp::worker {

class UpstreamRecorder;

struct HttpRequestSpec {
  bool post = false;
  std::string custom_method;  // e.g. "DELETE"; empty: GET, or POST when `post`
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Lines shared by many requests (formatted once, neither copied nor
  // re-listed per request): each empty line is a slot, filled by the next
  // line of `headers`, in order. Null: `headers` is the whole list.
  std::shared_ptr<const std::vector<std::string>> shared_headers;
  std::string cookies;  // full Cookie header value; empty: none
  std::string proxy;    // CURLOPT_PROXY (the account's); empty: libcurl's default
  std::string body;     // POST body
  // PUT body (uploads): sent from this view through a read callback, never
  // copied. REQUIRES: the bytes outlive the request. Non-empty: the request
  // is a PUT (CURLOPT_UPLOAD) and `post`/`body` are ignored.
  std::string_view upload;
  uint64_t connect_timeout_ms = 10'000;
  uint64_t first_byte_timeout_ms = 60'000;  // 0 = none
  uint64_t idle_timeout_ms = 60'000;        // 0 = none
  uint64_t total_timeout_ms = 0;            // 0 = none
  bool stream = false;
  size_t max_body_bytes = 4 * 1024 * 1024;
  UpstreamRecorder* recorder = nullptr;  // not owned; null: not recorded
};

struct HttpResult {
  long status = 0;  // 0: no response
  std::string content_type;
  std::string body;                        // buffered body (empty when streamed)
  bool streamed = false;                   // the body went to on_stream_data()
  std::optional<UpstreamFailure> failure;  // transport failure or timeout
};

class HttpRequest final : public CurlTransfer {
 public:
  class Listener {
   public:
    // Returns false to stop the transfer (no on_complete() follows).
    virtual bool on_stream_data(std::string_view bytes) = 0;
    virtual void on_complete(HttpResult result) = 0;

   protected:
    ~Listener() = default;
  };

  HttpRequest(CurlMulti* multi, HttpRequestSpec spec, Listener* listener);
  ~HttpRequest();  // stops the transfer without callbacks
  HttpRequest(const HttpRequest&) = delete;
  HttpRequest& operator=(const HttpRequest&) = delete;

  Status start();
  // Stops the transfer; no callback follows. REQUIRES: not inside on_stream_data().
  void abort();
  bool running() const { return running_; }
  // Whether the POST body is still held (see "Memory" above).
  bool holds_body() const { return !spec_.body.empty(); }

  // CurlTransfer
  void on_transfer_done(CURLcode result) override;

 private:
  static size_t write_cb(char* data, size_t size, size_t n, void* userp);
  static size_t header_cb(char* data, size_t size, size_t n, void* userp);
  static size_t read_cb(char* data, size_t size, size_t n, void* userp);
  // Ends the recording of this exchange (no-op when not recording).
  void record_end(const char* outcome, std::string_view error);
  size_t on_write(std::string_view bytes);
  void decide_mode();
  void on_timer();
  void arm_timer(uint64_t ms);
  HttpResult take_result();
  // The transfer is over: gives the easy handle back and frees what only
  // the transfer needed. REQUIRES: the handle is not added to the multi.
  void release_transfer();
  // Frees the POST body if curl has sent all of it.
  void release_sent_body();
  Status set_headers();
  // Every header line in order (spec_.shared_headers' slots filled).
  std::vector<std::string> header_lines() const;

  CurlMulti* multi_;
  HttpRequestSpec spec_;
  Listener* listener_;
  char errbuf_[CURL_ERROR_SIZE] = {};
  // The request's header list, declared before easy_ (the easy handle dies
  // first): curl's own copy of spec_.headers, or, with spec_.shared_headers,
  // our nodes pointing into the shared lines and spec_.headers.
  SlistPtr headers_;
  std::vector<curl_slist> header_nodes_;
  EasyPtr easy_;
  uv::Timer timer_;
  std::string body_;
  size_t upload_sent_ = 0;                          // bytes of spec_.upload handed to curl
  std::unique_ptr<record::ExchangeRecord> record_;  // while recording this exchange
  uint64_t started_ms_ = 0;
  uint64_t last_data_ms_ = 0;
  bool started_ = false;
  bool running_ = false;
  bool mode_decided_ = false;
  bool streaming_ = false;
  bool got_body_ = false;
  bool stopped_ = false;  // the listener returned false
  bool too_large_ = false;
};

}  // namespace qp::worker
