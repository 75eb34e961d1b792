// The assistant message of one job as the client saw it: the one definition
// that the worker (which keys the conversation after its reply) and the
// frontend's routes (which return the reply) share, so that the key of a
// reply and the key of the same message sent back by a client agree by
// construction (docs/architecture.md, "Conversations").
//
// Built from the job's JobChunk deltas, in order:
//  - content deltas are appended (reasoning is not part of the message);
//  - tool-call deltas go to the call at their index: index == number of
//    calls so far starts a new call (id and name from that delta), a lower
//    index appends its arguments to that call, and a negative or larger
//    index is dropped (a gap would leave a call the client never saw);
//  - non-streamed JSON mode (response_format json_object / json_schema,
//    stream false) returns the content without a Markdown fence when only
//    the unfenced text is JSON (json::returned_json_answer), as the routes
//    do; streamed text cannot be taken back, so it stays as sent.
//
// Per chunk, add() only appends: no parsing; the only allocations are the
// message growing (text, a new call).
//
// Its canonical form (history_key.h: key_after_reply for a reply,
// digest_history for the same message sent back by a client, one function
// for both): trimmed content, the number of calls, then each call's name and
// canonical arguments (canonical_json.h; the trimmed text when not JSON). Ids, types and spacing do
// not count.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"

namespace qp::conversation {

// One tool call of the message.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as the deltas carried it
};

class AssistantMessage {
 public:
  // Non-streamed JSON mode: content() is returned without its fence.
  void set_unfenced_json(bool on) { unfenced_json_ = on; }
  bool unfenced_json() const { return unfenced_json_; }

  // One chunk's content and tool-call deltas.
  void add(const protocol::JobChunk& chunk) {
    content_.append(chunk.content);
    for (const auto& d : chunk.tool_calls) add_tool_call(d);
  }
  void add_content(std::string_view text) { content_.append(text); }
  void add_tool_call(const protocol::ToolCallDelta& delta);

  // Every content delta, as received.
  const std::string& raw_content() const { return content_; }
  // The content as the client got it (unfenced in non-streamed JSON mode).
  std::string_view content() const;
  const std::vector<ToolCall>& tool_calls() const { return calls_; }
  bool empty() const { return content_.empty() && calls_.empty(); }

 private:
  std::string content_;
  std::vector<ToolCall> calls_;
  bool unfenced_json_ = false;
};

}  // namespace qp::conversation
