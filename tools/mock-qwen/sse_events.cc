#include "tools/mock-qwen/sse_events.h"

#include "common/json/writer.h"

namespace qp::mock {
namespace {

struct Seps {
  std::string_view comma;
  std::string_view colon;
};
constexpr Seps kPy{", ", ": "};
constexpr Seps kCompact{",", ":"};

const Seps& seps_for(const EventStyle& style) { return style.variant_2026 ? kCompact : kPy; }

void key(std::string* out, std::string_view k, const Seps& s) {
  out->push_back('"');
  out->append(k);
  out->push_back('"');
  out->append(s.colon);
}

void str_field(std::string* out, std::string_view k, std::string_view v, const Seps& s) {
  key(out, k, s);
  json::append_quoted(out, v);
}

void int_field(std::string* out, std::string_view k, int64_t v, const Seps& s) {
  key(out, k, s);
  out->append(std::to_string(v));
}

void begin_choices(std::string* out, const Seps& s) {
  out->append("data: {");
  key(out, "choices", s);
  out->append("[{");
  key(out, "delta", s);
  out->push_back('{');
}

// Closes the choice and choices (the caller closed delta); top level follows.
void end_choices(std::string* out) { out->append("}]"); }

// Top-level response_id for the 2026 variant, placed right after choices.
void variant_response_id(std::string* out, const EventStyle& style, const Seps& s) {
  if (!style.variant_2026) return;
  out->append(s.comma);
  str_field(out, "response_id", style.response_id, s);
}

void variant_timestamp(std::string* out, const EventStyle& style, const Seps& s) {
  if (!style.variant_2026) return;
  out->append(s.comma);
  int_field(out, "timestamp", style.timestamp_s, s);
}

void append_usage(std::string* out, const Usage& u, const EventStyle& style, const Seps& s) {
  out->append(s.comma);
  key(out, "usage", s);
  out->push_back('{');
  int64_t total = u.input_tokens + u.output_tokens;
  int_field(out, "input_tokens", u.input_tokens, s);
  out->append(s.comma);
  int_field(out, "output_tokens", u.output_tokens, s);
  out->append(s.comma);
  if (style.variant_2026) {
    int_field(out, "total_tokens", total, s);
    out->push_back('}');
    return;
  }
  int_field(out, "characters", 0, s);
  out->append(s.comma);
  int_field(out, "total_tokens", total, s);
  out->append(s.comma);
  key(out, "input_tokens_details", s);
  out->push_back('{');
  int_field(out, "text_tokens", u.input_tokens, s);
  out->append("}");
  out->append(s.comma);
  key(out, "output_tokens_details", s);
  out->push_back('{');
  int_field(out, "text_tokens", u.output_tokens, s);
  out->append("}");
  out->append(s.comma);
  int_field(out, "cached_tokens", 0, s);
  out->push_back('}');
}

void end_event(std::string* out) { out->append("}\n\n"); }

}  // namespace

void append_created(std::string* out, std::string_view chat_id, std::string_view parent_id,
                    std::string_view response_id) {
  // Byte-exact copy of the captured line, including `"response_id":"` without
  // a space and the trailing space before the newline.
  out->append("data: {\"response.created\":{\"chat_id\": ");
  json::append_quoted(out, chat_id);
  out->append(", \"parent_id\": ");
  json::append_quoted(out, parent_id);
  out->append(", \"response_id\":");
  json::append_quoted(out, response_id);
  out->append("}} \n\n");
}

void append_delta(std::string* out, std::string_view content, std::string_view phase,
                  const Usage& usage, const EventStyle& style) {
  const Seps& s = seps_for(style);
  begin_choices(out, s);
  str_field(out, "role", "assistant", s);
  out->append(s.comma);
  str_field(out, "content", content, s);
  out->append(s.comma);
  str_field(out, "phase", phase, s);
  out->append(s.comma);
  str_field(out, "status", "typing", s);
  out->push_back('}');
  end_choices(out);
  variant_response_id(out, style, s);
  append_usage(out, usage, style, s);
  variant_timestamp(out, style, s);
  end_event(out);
}

void append_phase_delta(std::string* out, std::string_view content, std::string_view phase,
                        std::string_view status, std::string_view extra_json, const Usage* usage,
                        const EventStyle& style) {
  const Seps& s = seps_for(style);
  begin_choices(out, s);
  str_field(out, "role", "assistant", s);
  out->append(s.comma);
  str_field(out, "content", content, s);
  out->append(s.comma);
  str_field(out, "phase", phase, s);
  out->append(s.comma);
  str_field(out, "status", status, s);
  if (!extra_json.empty()) {
    out->append(s.comma);
    key(out, "extra", s);
    out->append(extra_json);
  }
  out->push_back('}');
  end_choices(out);
  variant_response_id(out, style, s);
  if (usage != nullptr) append_usage(out, *usage, style, s);
  variant_timestamp(out, style, s);
  end_event(out);
}

void append_finished(std::string* out, const EventStyle& style) {
  const Seps& s = seps_for(style);
  begin_choices(out, s);
  // Key order differs from typing deltas in the capture: content first.
  str_field(out, "content", "", s);
  out->append(s.comma);
  str_field(out, "role", "assistant", s);
  out->append(s.comma);
  str_field(out, "status", "finished", s);
  out->append(s.comma);
  str_field(out, "phase", "answer", s);
  out->push_back('}');
  end_choices(out);
  variant_response_id(out, style, s);
  end_event(out);
}

void append_summary(std::string* out, std::string_view title,
                    const std::vector<std::string_view>& thoughts, const EventStyle& style) {
  const Seps& s = seps_for(style);
  begin_choices(out, s);
  str_field(out, "role", "assistant", s);
  out->append(s.comma);
  str_field(out, "content", "", s);
  out->append(s.comma);
  str_field(out, "phase", "thinking_summary", s);
  out->append(s.comma);
  key(out, "extra", s);
  out->push_back('{');
  key(out, "summary_title", s);
  out->push_back('{');
  key(out, "content", s);
  out->push_back('[');
  json::append_quoted(out, title);
  out->append("]}");
  out->append(s.comma);
  key(out, "summary_thought", s);
  out->push_back('{');
  key(out, "content", s);
  out->push_back('[');
  for (size_t i = 0; i < thoughts.size(); ++i) {
    if (i > 0) out->append(s.comma);
    json::append_quoted(out, thoughts[i]);
  }
  out->append("]}}}");
  end_choices(out);
  variant_response_id(out, style, s);
  variant_timestamp(out, style, s);
  end_event(out);
}

void append_search_call(std::string* out, std::string_view query, const EventStyle& style) {
  const Seps& s = seps_for(style);
  // arguments is a JSON document inside a JSON string: serialise, then quote.
  std::string args = "{\"queries\"";
  args.append(s.colon);
  args.push_back('[');
  json::append_quoted(&args, query);
  args.append("]}");
  begin_choices(out, s);
  str_field(out, "role", "assistant", s);
  out->append(s.comma);
  str_field(out, "content", "", s);
  out->append(s.comma);
  str_field(out, "phase", "web_search", s);
  out->append(s.comma);
  str_field(out, "status", "typing", s);
  out->append(s.comma);
  key(out, "function_call", s);
  out->push_back('{');
  str_field(out, "name", "web_search", s);
  out->append(s.comma);
  str_field(out, "arguments", args, s);
  out->push_back('}');
  out->append(s.comma);
  str_field(out, "function_id", "round_0_1", s);
  out->append(s.comma);
  key(out, "extra", s);
  out->push_back('{');
  str_field(out, "display_position", "answer", s);
  out->append("}}");
  end_choices(out);
  variant_response_id(out, style, s);
  variant_timestamp(out, style, s);
  end_event(out);
}

namespace {
// The mock's search docs: two deterministic sources per search.
struct MockDoc {
  const char* url;
  const char* hostname;
  const char* title_prefix;
  const char* snippet;
};
constexpr MockDoc kMockDocs[] = {
    {"https://example.com/mock-search/1", "example.com", "Mock result for ",
     "A deterministic search result from mock-qwen."},
    {"https://example.org/mock-search/2?q=1&r=2", "example.org", "Second mock result for ",
     "Another deterministic search result from mock-qwen."},
};

void append_doc(std::string* out, const MockDoc& d, std::string_view query, bool info,
                const Seps& s) {
  out->push_back('{');
  str_field(out, "url", d.url, s);
  out->append(s.comma);
  std::string title = d.title_prefix;
  title.append(query);
  str_field(out, "title", title, s);
  out->append(s.comma);
  if (info) {
    str_field(out, "hostname", d.hostname, s);
    out->append(s.comma);
  }
  str_field(out, "snippet", d.snippet, s);
  out->append(s.comma);
  str_field(out, "date", "2025-10-26", s);
  out->push_back('}');
}

void append_docs(std::string* out, std::string_view query, bool info, const Seps& s) {
  out->push_back('[');
  bool first = true;
  for (const MockDoc& d : kMockDocs) {
    if (!first) out->append(s.comma);
    first = false;
    append_doc(out, d, query, info, s);
  }
  out->push_back(']');
}
}  // namespace

void append_search_result(std::string* out, std::string_view query, const EventStyle& style) {
  const Seps& s = seps_for(style);
  begin_choices(out, s);
  str_field(out, "role", "function", s);
  out->append(s.comma);
  str_field(out, "content", "", s);
  out->append(s.comma);
  str_field(out, "phase", "web_search", s);
  out->append(s.comma);
  str_field(out, "status", "finished", s);
  out->append(s.comma);
  str_field(out, "name", "web_search", s);
  out->append(s.comma);
  key(out, "extra", s);
  out->push_back('{');
  str_field(out, "function_id", "1", s);
  out->append(s.comma);
  key(out, "tool_result", s);
  out->push_back('{');
  key(out, "docs", s);
  append_docs(out, query, false, s);
  out->append("}}}");
  end_choices(out);
  variant_response_id(out, style, s);
  variant_timestamp(out, style, s);
  end_event(out);
}

void append_search_info(std::string* out, std::string_view query, const EventStyle& style) {
  const Seps& s = seps_for(style);
  begin_choices(out, s);
  str_field(out, "role", "assistant", s);
  out->append(s.comma);
  str_field(out, "content", "", s);
  out->append(s.comma);
  str_field(out, "phase", "web_search", s);
  out->append(s.comma);
  str_field(out, "status", "finished", s);
  out->append(s.comma);
  str_field(out, "name", "web_search", s);
  out->append(s.comma);
  key(out, "extra", s);
  out->push_back('{');
  key(out, "web_search_info", s);
  append_docs(out, query, true, s);
  out->append("}}");
  end_choices(out);
  variant_response_id(out, style, s);
  variant_timestamp(out, style, s);
  end_event(out);
}

void append_keep_alive(std::string* out, std::string_view chat_id, std::string_view response_id,
                       int64_t timestamp_s) {
  const Seps& s = kCompact;
  out->append("data: {");
  key(out, "response.info", s);
  out->push_back('{');
  str_field(out, "action", "keep_alive", s);
  out->append(s.comma);
  str_field(out, "chat_id", chat_id, s);
  out->append(s.comma);
  str_field(out, "response_id", response_id, s);
  out->append(s.comma);
  int_field(out, "timestamp", timestamp_s, s);
  out->push_back('}');
  end_event(out);
}

void append_stream_error(std::string* out) {
  // Exact text ([MOCK DECISION]; docs/mock-qwen.md, "Fault switches",
  // mid_stream_error).
  out->append("data: {\"error\":{\"code\":\"internal_error\",\"message\":\"Internal error\"}}\n\n");
}

void append_done(std::string* out) { out->append("data: [DONE]\n\n"); }

}  // namespace qp::mock
