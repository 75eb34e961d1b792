// Test helpers: an assistant reply built as the worker builds it, from
// JobChunk deltas (common/conversation/assistant_message.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/conversation/assistant_message.h"
#include "common/conversation/history_key.h"

namespace qp::testing {

// A history message: `role`, `content`, and `tool_calls` as the client's JSON.
inline protocol::ChatMessage msg(std::string role, std::string content,
                                 std::string tool_calls = {}) {
  protocol::ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  m.tool_calls = std::move(tool_calls);
  return m;
}

// A tool result answering the call `call_id`.
inline protocol::ChatMessage tool(std::string content, std::string call_id) {
  protocol::ChatMessage m = msg("tool", std::move(content));
  m.tool_call_id = std::move(call_id);
  return m;
}

// A reply with text `content` and `calls` (id, name, arguments), one call's
// deltas as the tool stage outputs them: id and name, then the arguments.
inline conversation::AssistantMessage assistant_reply(
    std::string_view content, const std::vector<conversation::ToolCall>& calls = {},
    bool unfenced_json = false) {
  conversation::AssistantMessage m;
  m.set_unfenced_json(unfenced_json);
  protocol::JobChunk chunk;
  chunk.content = content;
  int32_t index = 0;
  for (const auto& c : calls) {
    chunk.tool_calls.push_back({index, c.id, c.name, ""});
    chunk.tool_calls.push_back({index, "", "", c.arguments});
    ++index;
  }
  m.add(chunk);
  return m;
}

// key_after_reply of that reply.
inline std::string reply_key(std::string_view state, std::string_view content,
                             const std::vector<conversation::ToolCall>& calls = {}) {
  return conversation::key_after_reply(state, assistant_reply(content, calls));
}

}  // namespace qp::testing
