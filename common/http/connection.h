// One client connection of http::Server: reads and parses requests, keeps the
// pipelined ones in order, writes responses, and runs the close state machine.
// Runs on the server's loop thread.
//
// Ownership: a Connection owns itself once accepted. It embeds its uv_tcp_t
// and uv_timer_t (their data points here, so it is neither copyable nor
// movable) and is deleted in the last of their close callbacks, never inside
// another callback: after close_now() the object stays valid until the loop
// runs the close callbacks, so code further up the stack may still read
// state_. Write requests come from a small per-connection pool and hold the
// response bytes until libuv is done with them.
//
// States: kOpen -> kFinishing (the last response is queued: shut down the
// write side, keep reading and discarding until the client closes or the
// linger timeout) -> kClosing (uv_close issued) -> freed.
//
// At most one exchange is active. Requests parsed ahead wait in queue_ and are
// dispatched only after the active response has ended. The exchange methods
// below act on the active exchange; Exchange finds this object through
// ServerContext::exchanges, so they are only reached while it is active.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "common/http/request_parser.h"
#include "common/http/response_head.h"
#include "common/http/server.h"
#include "common/http/server_context.h"

namespace qp::http {

class Connection {
 public:
  // Initialises the handles and accepts a pending client from `listener`.
  // Returns nullptr (and cleans up) if accept fails. The caller registers it in
  // ctx->connections and then calls start() or reject().
  static Connection* accept(ServerContext* ctx, uv_stream_t* listener);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uint64_t id() const { return id_; }
  // The client's address as counted by max_connections_per_address: the
  // IPv4 address, or the /64 prefix of an IPv6 one (IPv4-mapped IPv6 counts
  // as IPv4); raw bytes. Empty if unknown.
  const std::string& address_key() const { return address_key_; }
  // The client's address as text (for logs).
  std::string address_text() const;
  bool loopback() const { return loopback_; }
  // The connection is counted in ctx->per_address: uncount it on close.
  void set_address_counted() { address_counted_ = true; }
  // Starts reading requests.
  void start();
  // Answers with an error response (e.g. 503) without reading a request, then closes.
  void reject(int status, std::string message);
  // Server::stop_accepting(): closes now if idle, else after the current response.
  void drain();
  // Closes immediately: the active exchange (if any) is aborted and its
  // on_abort callback runs; unsent response bytes are dropped. Idempotent.
  void close_now(const char* reason);

  // --- the active exchange (see Exchange in server.h for the contract)
  const Request& request() const { return active_; }
  void respond(int status, const Headers& headers, std::string body);
  void start_stream(int status, const Headers& headers);
  bool write(std::string data);
  void end();
  void set_abort_callback(std::function<void()> cb) { abort_cb_ = std::move(cb); }
  // Exchange::abort(): resets the connection without on_abort.
  void abort_exchange();
  size_t queued_bytes() const;

  // Work postponed by defer(): run by ServerContext on the next loop iteration.
  void run_deferred();
  // Writes the streamed bytes write() collected this loop turn (ServerContext::schedule_flush).
  void run_flush();

 private:
  enum class State : uint8_t { kOpen, kFinishing, kClosing };
  enum class Phase : uint8_t {
    kNone,       // no exchange active
    kHandler,    // dispatched; the handler owns it, nothing sent yet
    kStreaming,  // head sent, body chunks follow
  };
  enum class BodyMode : uint8_t { kChunked, kRaw, kDiscard };

  struct WriteReq {
    uv_write_t req;
    Connection* conn = nullptr;
    WriteReq* next = nullptr;  // free list
    std::string head;          // status line + headers (capacity reused)
    std::string data;          // body or chunk moved in by the caller
    char size_line[kChunkSizeLineMax];
  };

  Connection(ServerContext* ctx, uint64_t id);
  ~Connection();

  // libuv trampolines (catch-all inside: no exception crosses into C).
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_timer(uv_timer_t* t);
  static void on_close(uv_handle_t* h);
  template <typename F>
  static void guarded(Connection* c, F&& body) noexcept;

  uv_stream_t* stream() {
    return reinterpret_cast<uv_stream_t*>(&tcp_);
  }  // NOLINT: libuv C inheritance
  const uv_stream_t* stream() const {
    return reinterpret_cast<const uv_stream_t*>(&tcp_);
  }  // NOLINT

  void on_data(const char* data, size_t len);
  void on_read_end(ssize_t status);
  void on_idle_timeout();
  // Loop time by which the request being read must be complete (0 = none),
  // starting the head or body deadline if the server just began waiting.
  uint64_t read_deadline(uint64_t now);
  // Gives back every body-budget byte this connection holds.
  void release_bodies();
  void feed_input(const char* data, size_t len);
  bool queue_full() const;
  // Drives parsing ahead and dispatch. Not re-entrant: a nested call (a handler
  // responding synchronously) only asks the running one to loop again.
  void process();
  void after_process();
  void dispatch_next();
  void handler_failed(uint64_t exchange_id, const std::string& what);
  void end_exchange();
  // Postpones processing to the next loop iteration. Used whenever continuing
  // now would call user code (the next handler, on_abort) from inside an
  // Exchange method the user is executing.
  void defer();
  void send_error();
  // Queues the last bytes, shuts down the write side and lingers.
  void finish();
  void set_reading(bool on);
  ConnectionHeader connection_header() const;

  WriteReq* acquire_write();
  void release_write(WriteReq* w);
  // Starts the write. On failure returns false, marks the connection broken
  // and defers closing it (the caller may be user code).
  bool submit(WriteReq* w, const uv_buf_t* bufs, unsigned nbufs);
  bool submit_static(std::string_view bytes);
  // Writes out_ as one body chunk (one raw write for HTTP/1.0), followed by the
  // last chunk if `last`. Returns false if the write could not be started.
  bool flush_output(bool last);

  ServerContext* ctx_;
  const uint64_t id_;
  uv_tcp_t tcp_{};
  // While kOpen: the idle timeout, or the head/body deadline of a request
  // being read; while kFinishing: the flush/linger deadline.
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_req_{};
  int open_handles_ = 0;
  State state_ = State::kOpen;
  bool reading_ = false;
  bool eof_ = false;
  bool shutdown_done_ = false;
  bool in_process_ = false;
  bool process_again_ = false;
  bool deferred_ = false;
  bool broken_ = false;  // a write could not be started: close on the next iteration
  bool reset_ = false;   // close with RST (Exchange::abort)

  std::string address_key_;
  bool loopback_ = false;
  bool address_counted_ = false;

  // What the read deadline is running for, and since when (loop time).
  enum class Wait : uint8_t { kNone, kHead, kBody };
  Wait wait_ = Wait::kNone;
  uint64_t wait_start_ms_ = 0;

  RequestParser parser_;
  // Parsed, waiting for dispatch (pipelining; a few at most). A vector: an
  // empty one allocates nothing, a std::deque allocates ~600 bytes up front
  // for every connection (docs/benchmarks.md, "Step 6: memory per open stream").
  std::vector<Request> queue_;
  size_t queued_body_bytes_ = 0;  // sum of queue_ bodies
  std::string pending_input_;     // unparsed bytes held while queue_ is full
  int error_status_ = 0;          // error response owed after the queued requests
  std::string error_message_;

  Phase phase_ = Phase::kNone;
  uint64_t exchange_id_ = 0;
  Request active_;
  std::function<void()> abort_cb_;
  bool head_request_ = false;
  bool close_after_ = false;  // close once the active response has ended
  BodyMode body_mode_ = BodyMode::kChunked;

  WriteReq* free_writes_ = nullptr;
  size_t free_count_ = 0;
  // Streamed body bytes not yet handed to libuv (write() appends; run_flush()
  // or end() writes them), and whether a flush is scheduled for this turn.
  std::string out_;
  bool flush_scheduled_ = false;
};

}  // namespace qp::http
