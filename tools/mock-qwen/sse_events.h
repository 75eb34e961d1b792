// Byte-exact SSE events of chat.qwen.ai's completion stream (docs/mock-qwen.md,
// "The stream"). Each function appends one complete event, "data: <json>\n\n",
// to a caller-owned buffer. Pure.
//
// Default style = the 2025-10 capture: Python separators (", " and ": "), the
// response.created line with its odd mixed spacing and trailing space, usage
// with all seven fields on every typing event, no usage on `finished`.
// variant_2026 = the QN README shape: compact separators, top-level
// response_id and timestamp, usage with three fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qp::mock {

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;  // cumulative
};

struct EventStyle {
  bool variant_2026 = false;
  std::string_view response_id;  // used by variant_2026 only
  int64_t timestamp_s = 0;       // used by variant_2026 only
};

// {"response.created":{"chat_id": …, "parent_id": …, "response_id":…}} (same in both styles).
void append_created(std::string* out, std::string_view chat_id, std::string_view parent_id,
                    std::string_view response_id);
// A typing delta of `phase` ("answer", "think") with cumulative usage.
void append_delta(std::string* out, std::string_view content, std::string_view phase,
                  const Usage& usage, const EventStyle& style);
// A delta of any phase and status: role assistant, content, phase, status,
// then `extra` when extra_json (a JSON object's text) is not empty, then
// usage when not null. For the deep research phases (research_events.h).
void append_phase_delta(std::string* out, std::string_view content, std::string_view phase,
                        std::string_view status, std::string_view extra_json, const Usage* usage,
                        const EventStyle& style);
// The final {"delta": {"content": "", "role": "assistant", "status": "finished", "phase":
// "answer"}}.
void append_finished(std::string* out, const EventStyle& style);
// thinking_format "summary": a thinking_summary delta with cumulative arrays
// summary_title.content = [title], summary_thought.content = thoughts.
void append_summary(std::string* out, std::string_view title,
                    const std::vector<std::string_view>& thoughts, const EventStyle& style);
// chat_type "search". Newer format: the web_search function_call delta, then a
// role "function" result whose extra.tool_result.docs[] holds two deterministic
// sources (https://example.com/mock-search/1 and
// https://example.org/mock-search/2?q=1&r=2, titles naming the query). Older
// format: the same call, then a delta named web_search whose
// extra.web_search_info[] holds the same two sources (with hostname).
void append_search_call(std::string* out, std::string_view query, const EventStyle& style);
void append_search_result(std::string* out, std::string_view query, const EventStyle& style);
void append_search_info(std::string* out, std::string_view query, const EventStyle& style);
// 2026 keep-alive: {"response.info":{"action":"keep_alive",…}}.
void append_keep_alive(std::string* out, std::string_view chat_id, std::string_view response_id,
                       int64_t timestamp_s);
// Mid-stream failure [MOCK DECISION].
void append_stream_error(std::string* out);
// "data: [DONE]\n\n" (off by default, as in the capture [MOCK DECISION]).
void append_done(std::string* out);

}  // namespace qp::mock
