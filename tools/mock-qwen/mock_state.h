// Observable state for tests: counters and one record per completion request,
// served as JSON by GET /__mock/state. Pure; owned by the mock's loop thread.
// Records never hold tokens, cookies or the raw bx-umidtoken: only whether
// they were present, and a short hash of the token.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace qp::mock {

struct Counters {
  uint64_t chats_created = 0;
  uint64_t completions_requested = 0;  // every POST /api/v2/chat/completions
  uint64_t completions_rejected = 0;   // answered with an error before any stream
  uint64_t completions_started = 0;    // accepted: a stream (or stream:false answer) began
  uint64_t completions_finished = 0;
  uint64_t completions_aborted = 0;  // the client went away mid-stream
  uint64_t completions_stopped = 0;  // ended by /completions/stop
  uint64_t completions_error = 0;    // mid-stream error or drop
  uint64_t stops = 0;                // calls of /completions/stop
  uint64_t signins = 0;
  uint64_t streams_active = 0;
  uint64_t file_parses = 0;       // calls of /api/v2/files/parse
  uint64_t file_parse_polls = 0;  // calls of /api/v2/files/parse/status
};

struct Record {
  uint64_t seq = 0;
  int64_t ts_ms = 0;
  std::string chat_id;
  std::string parent_id;  // as requested; empty = null
  std::string model;
  std::string content;  // the user message text
  std::string user_id;  // JWT id or guest owner id; empty before auth
  std::string chat_mode;
  std::string chat_type;
  bool stream = true;
  bool thinking_enabled = false;
  std::string thinking_format;
  int64_t thinking_budget = -1;  // -1: not sent
  std::string thinking_mode;
  bool auto_search = false;
  int attachments = 0;
  size_t message_count = 0;
  size_t context_messages = 0;  // messages on the path root..parent
  // Selected request headers.
  std::string user_agent;
  std::string x_request_id;
  std::string source;
  std::string bx_v;
  std::string version;
  std::string accept;
  std::string content_type;
  bool has_bx_umidtoken = false;
  bool has_bx_ua = false;
  bool has_authorization = false;
  bool has_token_cookie = false;
  // First 16 hex digits of sha256(token): tells tokens apart (rotation
  // tests) without storing them. Empty when not sent.
  std::string authorization_fp;  // the Bearer token
  std::string token_cookie_fp;   // the `token` cookie
  // Outcome.
  std::string user_message_id;      // U
  std::string response_id;          // A
  std::string outcome = "running";  // running|finished|aborted|stopped|error
  int http_status = 200;
  std::string error_code;
  std::string error_details;
  int64_t output_tokens = 0;
  int rule = -1;  // index of the answer rule; -1 = echo
};

class MockState {
 public:
  Counters counters;

  // Appends a record with the next seq; drops the oldest past max_records.
  Record& add_record(int64_t now_ms);
  // The record with this seq if it is still kept, else nullptr.
  Record* find(uint64_t seq);
  void set_max_records(size_t n);
  // Clears counters (except streams_active) and records.
  void reset();

  // Appends {"<counter>": n, …, "records_total": n, "records": [ … ]} with the
  // records whose seq > since_seq (at most limit of them, oldest first), without
  // the closing brace so the caller can add fields.
  void append_json_open(std::string* out, uint64_t since_seq, size_t limit) const;

 private:
  std::deque<Record> records_;
  size_t max_records_ = 10000;
  uint64_t next_seq_ = 1;
};

}  // namespace qp::mock
