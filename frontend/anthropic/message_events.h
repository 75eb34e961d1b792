// Renders a job's CHUNK/DONE/ERROR as Anthropic Messages API output. Pure: no
// I/O; MessagesCall (messages_call.h) writes what this appends.
//
// Streaming (append_*), exactly Anthropic's event sequence, every event with
// its `event:` line:
//   message_start, ping,
//   per content block: content_block_start, its deltas, content_block_stop
//     text      : text_delta…
//     thinking  : thinking_delta…, then one signature_delta before the stop
//     tool_use  : content_block_start carries `input: {}`; the input comes
//                 only as input_json_delta (Claude Code ignores a start input)
//   message_delta (stop_reason, usage), message_stop;
//   on failure: an `error` event instead of the message_delta (the stream
//   then ends).
// A new block starts whenever the kind of delta changes (reasoning → text →
// a tool call). Non-streaming (add + message_json): the same content as one
// `message` object.
//
// stop_reason: stop → end_turn (stop_sequence when a client stop sequence
// matched: then `stop_sequence` names it), length → max_tokens, tool_calls →
// tool_use, content_filter → refusal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/conversation/assistant_message.h"
#include "common/json/writer.h"
#include "common/protocol/messages.h"
#include "frontend/openai/api_error.h"

namespace qp::frontend::anthropic {

// The opaque signature of a thinking block. Anthropic signs thinking so that
// it can be verified when sent back; this gateway ignores thinking sent back,
// so the value only has to be present.
inline constexpr std::string_view kThinkingSignature = "qwenproxy-unsigned";

// stop_sequence: JobDone::stop_sequence (non-empty: "stop_sequence").
const char* stop_reason(std::string_view finish_reason, std::string_view stop_sequence = {});

class MessageEvents {
 public:
  // message_id: "msg_…"; model: echoed as the client named it;
  // input_tokens: the estimate until DONE reports Qwen's count;
  // thinking: whether to render reasoning (false drops it: thinking
  // disabled, or display "omitted").
  MessageEvents(std::string message_id, std::string model, int64_t input_tokens, bool thinking);

  // Streaming.
  void append_start(std::string* out) const;  // message_start + ping
  void append_chunk(std::string* out, const protocol::JobChunk& chunk);
  void append_done(std::string* out, const protocol::JobDone& done);
  static void append_ping(std::string* out);
  static void append_error(std::string* out, const ApiError& e);

  // Non-streaming: accumulate chunks, then the whole message object. The
  // text and tool calls are the assistant message as the client gets it
  // (conversation::AssistantMessage, common/conversation/assistant_message.h:
  // the same delta rules the chat route and the worker's key use); the
  // blocks keep their order.
  void add(const protocol::JobChunk& chunk);
  std::string message_json(const protocol::JobDone& done) const;

 private:
  enum class Kind { kNone, kText, kThinking, kTool };
  // A block of the non-streamed message, in order.
  struct Block {
    Kind kind;
    size_t begin = 0, end = 0;  // text: its span of message_.raw_content(); tool: begin = call
    std::string thinking;       // thinking
  };
  void open(std::string* out, Kind kind, const protocol::ToolCallDelta* call);
  void close(std::string* out);
  void event(std::string* out, std::string_view name) const;
  void append_usage(std::string* out, const protocol::JobDone& done) const;
  static void append_stop_sequence(json::Writer* w, const protocol::JobDone& done);

  std::string id_;
  std::string model_;
  int64_t input_tokens_;
  bool thinking_;
  // Streaming state.
  Kind open_ = Kind::kNone;
  int index_ = -1;           // index of the open (or last) block
  int32_t tool_index_ = -1;  // the open tool block's ToolCallDelta index
  // Non-streaming accumulation.
  conversation::AssistantMessage message_;
  std::vector<Block> blocks_;
};

}  // namespace qp::frontend::anthropic
