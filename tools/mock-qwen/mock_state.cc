#include "tools/mock-qwen/mock_state.h"

#include "common/json/writer.h"

namespace qp::mock {

Record& MockState::add_record(int64_t now_ms) {
  while (max_records_ > 0 && records_.size() >= max_records_) records_.pop_front();
  if (max_records_ == 0) records_.clear();
  records_.emplace_back();
  Record& r = records_.back();
  r.seq = next_seq_++;
  r.ts_ms = now_ms;
  return r;
}

Record* MockState::find(uint64_t seq) {
  if (records_.empty() || seq < records_.front().seq || seq > records_.back().seq) return nullptr;
  // seqs are consecutive inside the deque.
  return &records_[seq - records_.front().seq];
}

void MockState::set_max_records(size_t n) {
  max_records_ = n;
  while (records_.size() > max_records_) records_.pop_front();
}

void MockState::reset() {
  uint64_t active = counters.streams_active;
  counters = Counters();
  counters.streams_active = active;
  records_.clear();
}

void MockState::append_json_open(std::string* out, uint64_t since_seq, size_t limit) const {
  json::Writer w(out);
  w.begin_object();
  const Counters& c = counters;
  w.field("chats_created", c.chats_created);
  w.field("completions_requested", c.completions_requested);
  w.field("completions_rejected", c.completions_rejected);
  w.field("completions_started", c.completions_started);
  w.field("completions_finished", c.completions_finished);
  w.field("completions_aborted", c.completions_aborted);
  w.field("completions_stopped", c.completions_stopped);
  w.field("completions_error", c.completions_error);
  w.field("stops", c.stops);
  w.field("signins", c.signins);
  w.field("streams_active", c.streams_active);
  w.field("file_parses", c.file_parses);
  w.field("file_parse_polls", c.file_parse_polls);
  w.field("records_total", next_seq_ - 1);
  w.key("records").begin_array();
  size_t n = 0;
  for (const Record& r : records_) {
    if (r.seq <= since_seq) continue;
    if (n++ >= limit) break;
    w.begin_object();
    w.field("seq", r.seq);
    w.field("ts_ms", r.ts_ms);
    w.field("chat_id", r.chat_id);
    if (r.parent_id.empty()) {
      w.field_null("parent_id");
    } else {
      w.field("parent_id", r.parent_id);
    }
    w.field("model", r.model);
    w.field("content", r.content);
    w.field("user_id", r.user_id);
    w.field("chat_mode", r.chat_mode);
    w.field("chat_type", r.chat_type);
    w.field("stream", r.stream);
    w.field("thinking_enabled", r.thinking_enabled);
    w.field("thinking_format", r.thinking_format);
    w.field("thinking_budget", r.thinking_budget);
    w.field("thinking_mode", r.thinking_mode);
    w.field("auto_search", r.auto_search);
    w.field("attachments", r.attachments);
    w.field("message_count", static_cast<uint64_t>(r.message_count));
    w.field("context_messages", static_cast<uint64_t>(r.context_messages));
    w.key("headers").begin_object();
    w.field("user-agent", r.user_agent);
    w.field("x-request-id", r.x_request_id);
    w.field("source", r.source);
    w.field("bx-v", r.bx_v);
    w.field("version", r.version);
    w.field("accept", r.accept);
    w.field("content-type", r.content_type);
    w.end_object();
    w.field("has_bx_umidtoken", r.has_bx_umidtoken);
    w.field("has_bx_ua", r.has_bx_ua);
    w.field("has_authorization", r.has_authorization);
    w.field("has_token_cookie", r.has_token_cookie);
    w.field("authorization_fp", r.authorization_fp);
    w.field("token_cookie_fp", r.token_cookie_fp);
    w.field("user_message_id", r.user_message_id);
    w.field("response_id", r.response_id);
    w.field("outcome", r.outcome);
    w.field("http_status", r.http_status);
    w.field("error_code", r.error_code);
    w.field("error_details", r.error_details);
    w.field("output_tokens", r.output_tokens);
    w.field("rule", r.rule);
    w.end_object();
  }
  w.end_array();
}

}  // namespace qp::mock
