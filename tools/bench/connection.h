// One keep-alive HTTP/1.1 client connection of the load generator (libuv +
// http-parser, response mode). It runs one request at a time: the OpenAI
// call, or the Qwen pair chats/new -> completions, and reports timestamps,
// content chunks and errors to its owner. Runs on the owner's loop.
//
// Lifetime: the owner keeps every Connection at a stable address for the
// whole run (handle->data points here) and destroys it only after its handle
// has closed (closed() is true).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <http_parser.h>
#include <uv.h>

#include "tools/bench/metrics.h"
#include "tools/bench/options.h"
#include "tools/bench/requests.h"
#include "tools/bench/sse_scanner.h"

namespace qp::bench {

class Connection;

// What every connection shares: the request shapes and the read buffer.
struct ConnectionShared {
  Api api = Api::kOpenAi;
  bool stream = false;
  QwenChat qwen_chat = QwenChat::kPerRequest;
  std::string openai_bytes;  // the OpenAI request, identical every time
  QwenShape qwen;            // views into strings the owner keeps
  sockaddr_storage addr{};
  char* read_buffer = nullptr;  // one buffer for all reads: each read is consumed at once
  size_t read_buffer_size = 0;
};

// Callbacks into the owner, always from a loop callback of this connection.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // Connected (and, with a Qwen chat pool, holding its chat): may take a request.
  virtual void on_ready(Connection* c) = 0;
  // A request ended; `error` is null on success.
  virtual void on_request_end(Connection* c, const RequestTiming& t, const ErrorKind* error,
                              int http_status, std::string_view detail) = 0;
  virtual void on_content_chunk(Connection* c, uint64_t now_ns, const RequestTiming& t,
                                uint64_t gap_ns) = 0;
  virtual void on_event_bytes(size_t events, size_t body_bytes) = 0;
  // The handle closed; `connect_failed` if it never connected.
  virtual void on_closed(Connection* c, bool connect_failed) = 0;
  virtual uint64_t next_seq() = 0;
};

class Connection : private EventSink {
 public:
  enum class State { kClosed, kConnecting, kSetup, kReady, kBusy, kClosing };

  Connection(uv_loop_t* loop, const ConnectionShared* shared, ConnectionOwner* owner, size_t id);
  ~Connection() override = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;

  // REQUIRES: state() == kClosed.
  void connect();
  // REQUIRES: state() == kReady.
  void start_request(uint64_t intended_ns, bool measured);
  // Fails the running request with kTimeout if it started before deadline.
  void check_timeout(uint64_t now_ns, uint64_t timeout_ns);
  // Closes the connection; a running request is dropped without a report
  // (the owner counts it as unfinished). Idempotent.
  void close();

  size_t id() const { return id_; }
  State state() const { return state_; }
  bool busy() const { return state_ == State::kBusy; }
  uint64_t request_sent_ns() const { return timing_.sent_ns; }

 private:
  enum class Phase { kNone, kPoolChat, kNewChat, kCompletion, kOpenAi };

  void on_event(EventKind kind) override;
  void on_bytes(const char* data, size_t n);
  void on_response_end();
  void send_new_chat(Phase phase);
  void send_completion();
  void write_out();
  void succeed();
  void fail(ErrorKind kind, int http_status, std::string_view detail);

  static void on_connect_cb(uv_connect_t* req, int status);
  static void on_alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_close_cb(uv_handle_t* h);
  static int on_message_begin_cb(http_parser* p);
  static int on_headers_complete_cb(http_parser* p);
  static int on_body_cb(http_parser* p, const char* at, size_t len);
  static int on_message_complete_cb(http_parser* p);
  static const http_parser_settings kSettings;

  uv_loop_t* loop_;
  const ConnectionShared* shared_;
  ConnectionOwner* owner_;
  size_t id_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  http_parser parser_{};
  SseScanner sse_;
  State state_ = State::kClosed;
  bool connected_ = false;  // this handle got through connect()
  Phase phase_ = Phase::kNone;

  // The current request.
  RequestTiming timing_;
  uint64_t phase_sent_ns_ = 0;
  uint64_t last_content_ns_ = 0;
  uint64_t now_ns_ = 0;  // time of the read being parsed
  uint64_t seq_ = 0;
  std::string pool_chat_id_;

  // The current response.
  int status_ = 0;
  bool response_done_ = false;
  bool keep_alive_ = true;
  bool is_sse_ = false;
  bool body_started_ = false;
  bool saw_end_event_ = false;  // [DONE] (OpenAI) or finished (Qwen)
  bool saw_error_event_ = false;
  std::string body_;  // non-SSE bodies (capped)

  // Output: double-buffered so a request can be built while the previous
  // write is still completing; write_view_ is what write_out() sends.
  std::string out_[2];
  std::string_view write_view_;
  int out_index_ = 0;
  bool writing_ = false;
  bool write_pending_ = false;
  std::string scratch_;
};

}  // namespace qp::bench
