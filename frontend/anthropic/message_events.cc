#include "frontend/anthropic/message_events.h"

#include "common/json/json_output.h"
#include "common/json/writer.h"
#include "frontend/anthropic/errors.h"

namespace qp::frontend::anthropic {

const char* stop_reason(std::string_view finish_reason, std::string_view stop_sequence) {
  if (finish_reason == "stop" && !stop_sequence.empty()) return "stop_sequence";
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls") return "tool_use";
  if (finish_reason == "content_filter") return "refusal";
  return "end_turn";
}

MessageEvents::MessageEvents(std::string message_id, std::string model, int64_t input_tokens,
                             bool thinking)
    : id_(std::move(message_id)),
      model_(std::move(model)),
      input_tokens_(input_tokens),
      thinking_(thinking) {}

void MessageEvents::event(std::string* out, std::string_view name) const {
  out->append("event: ").append(name).append("\ndata: ");
}

void MessageEvents::append_start(std::string* out) const {
  event(out, "message_start");
  json::Writer w(out);
  w.begin_object().field("type", "message_start").key("message").begin_object();
  w.field("id", id_).field("type", "message").field("role", "assistant").field("model", model_);
  w.key("content").begin_array().end_array();
  w.field_null("stop_reason").field_null("stop_sequence");
  w.key("usage").begin_object().field("input_tokens", input_tokens_);
  w.field("cache_creation_input_tokens", 0).field("cache_read_input_tokens", 0);
  w.field("output_tokens", 0).end_object();
  w.end_object().end_object();
  out->append("\n\n");
  append_ping(out);
}

void MessageEvents::append_ping(std::string* out) {
  out->append("event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

void MessageEvents::open(std::string* out, Kind kind, const protocol::ToolCallDelta* call) {
  close(out);
  open_ = kind;
  ++index_;
  event(out, "content_block_start");
  out->append("{\"type\":\"content_block_start\",\"index\":")
      .append(std::to_string(index_))
      .append(",\"content_block\":");
  json::Writer w(out);
  w.begin_object();
  if (kind == Kind::kText) {
    w.field("type", "text").field("text", "");
  } else if (kind == Kind::kThinking) {
    w.field("type", "thinking").field("thinking", "").field("signature", "");
  } else {
    tool_index_ = call->index;
    w.field("type", "tool_use").field("id", call->id).field("name", call->name);
    w.key("input").begin_object().end_object();
  }
  w.end_object();
  out->append("}\n\n");
}

void MessageEvents::close(std::string* out) {
  if (open_ == Kind::kNone) return;
  std::string idx = std::to_string(index_);
  if (open_ == Kind::kThinking) {
    event(out, "content_block_delta");
    out->append("{\"type\":\"content_block_delta\",\"index\":")
        .append(idx)
        .append(",\"delta\":{\"type\":\"signature_delta\",\"signature\":");
    json::append_quoted(out, kThinkingSignature);
    out->append("}}\n\n");
  }
  event(out, "content_block_stop");
  out->append("{\"type\":\"content_block_stop\",\"index\":").append(idx).append("}\n\n");
  open_ = Kind::kNone;
  tool_index_ = -1;
}

namespace {
void append_delta(std::string* out, int index, const char* type, const char* field,
                  std::string_view text) {
  out->append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":")
      .append(std::to_string(index))
      .append(",\"delta\":{\"type\":\"")
      .append(type)
      .append("\",\"")
      .append(field)
      .append("\":");
  json::append_quoted(out, text);
  out->append("}}\n\n");
}
}  // namespace

void MessageEvents::append_chunk(std::string* out, const protocol::JobChunk& chunk) {
  if (thinking_ && !chunk.reasoning.empty()) {
    if (open_ != Kind::kThinking) open(out, Kind::kThinking, nullptr);
    append_delta(out, index_, "thinking_delta", "thinking", chunk.reasoning);
  }
  if (!chunk.content.empty()) {
    if (open_ != Kind::kText) open(out, Kind::kText, nullptr);
    append_delta(out, index_, "text_delta", "text", chunk.content);
  }
  for (const auto& d : chunk.tool_calls) {
    if (!d.id.empty()) {
      open(out, Kind::kTool, &d);
    } else if (open_ != Kind::kTool || d.index != tool_index_) {
      continue;  // a fragment of a call that is not the open one (the worker sends none)
    }
    if (!d.arguments.empty())
      append_delta(out, index_, "input_json_delta", "partial_json", d.arguments);
  }
}

void MessageEvents::append_stop_sequence(json::Writer* w, const protocol::JobDone& done) {
  if (done.finish_reason == "stop" && !done.stop_sequence.empty())
    w->field("stop_sequence", done.stop_sequence);
  else
    w->field_null("stop_sequence");
}

void MessageEvents::append_usage(std::string* out, const protocol::JobDone& done) const {
  int64_t input =
      done.has_usage && done.usage.prompt_tokens > 0 ? done.usage.prompt_tokens : input_tokens_;
  json::Writer w(out);
  w.begin_object().field("input_tokens", input);
  w.field("cache_creation_input_tokens", 0).field("cache_read_input_tokens", 0);
  w.field("output_tokens", done.usage.completion_tokens).end_object();
}

void MessageEvents::append_done(std::string* out, const protocol::JobDone& done) {
  close(out);
  event(out, "message_delta");
  out->append("{\"type\":\"message_delta\",\"delta\":");
  json::Writer w(out);
  w.begin_object().field("stop_reason", stop_reason(done.finish_reason, done.stop_sequence));
  append_stop_sequence(&w, done);
  w.end_object();
  out->append(",\"usage\":");
  append_usage(out, done);
  out->append("}\n\n");
  event(out, "message_stop");
  out->append("{\"type\":\"message_stop\"}\n\n");
}

void MessageEvents::append_error(std::string* out, const ApiError& e) {
  out->append("event: error\ndata: ");
  append_error_json(out, e);
  out->append("\n\n");
}

void MessageEvents::add(const protocol::JobChunk& chunk) {
  auto last = [&](Kind k) -> Block& {
    if (blocks_.empty() || blocks_.back().kind != k) {
      size_t at = message_.raw_content().size();
      blocks_.push_back({k, at, at, {}});
    }
    return blocks_.back();
  };
  if (thinking_ && !chunk.reasoning.empty()) last(Kind::kThinking).thinking.append(chunk.reasoning);
  if (!chunk.content.empty()) {
    Block& b = last(Kind::kText);
    message_.add_content(chunk.content);
    b.end = message_.raw_content().size();
  }
  for (const auto& d : chunk.tool_calls) {
    size_t calls = message_.tool_calls().size();
    message_.add_tool_call(d);
    if (message_.tool_calls().size() > calls) blocks_.push_back({Kind::kTool, calls, calls, {}});
  }
}

std::string MessageEvents::message_json(const protocol::JobDone& done) const {
  std::string out;
  size_t size = 256;
  size += message_.raw_content().size();
  for (const auto& b : blocks_) size += b.thinking.size() + 64;
  for (const auto& c : message_.tool_calls()) size += c.arguments.size();
  out.reserve(size);
  json::Writer w(&out);
  w.begin_object().field("id", id_).field("type", "message").field("role", "assistant");
  w.field("model", model_).key("content").begin_array();
  for (const auto& b : blocks_) {
    w.begin_object();
    if (b.kind == Kind::kText) {
      std::string_view text(message_.raw_content());
      w.field("type", "text").field("text", text.substr(b.begin, b.end - b.begin));
    } else if (b.kind == Kind::kThinking) {
      w.field("type", "thinking").field("thinking", b.thinking);
      w.field("signature", kThinkingSignature);
    } else {
      const conversation::ToolCall& call = message_.tool_calls()[b.begin];
      w.field("type", "tool_use").field("id", call.id).field("name", call.name);
      bool valid = !call.arguments.empty() && json::parses_as_json(call.arguments);
      w.field_raw("input", valid ? std::string_view(call.arguments) : std::string_view("{}"));
    }
    w.end_object();
  }
  w.end_array();
  w.field("stop_reason", stop_reason(done.finish_reason, done.stop_sequence));
  append_stop_sequence(&w, done);
  w.key("usage");
  append_usage(&out, done);
  w.end_object();
  return out;
}

}  // namespace qp::frontend::anthropic
