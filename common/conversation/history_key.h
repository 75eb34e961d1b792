// Conversation keys: how a history that an OpenAI client sends back is
// recognised as the continuation of an upstream Qwen chat
// (docs/architecture.md, "Conversations").
//
// A key is a SHA-256 chained over the canonical form of each message:
//
//   h0 = 32 zero bytes;  h(i+1) = SHA-256(h(i) || canonical(message i))
//
// The key of a history is the hex of h after its last assistant message.
// Chaining lets the worker compute the key of "this request's history plus
// my reply" from one digest (HistoryDigest::state) and the reply alone (an
// AssistantMessage, assistant_message.h), without re-hashing the history.
// An assistant message has one canonical form, whether it is the worker's
// reply or a client sends it back: one function hashes both.
//
// The canonical form survives what real clients do when they send a reply
// back:
//  - content is trimmed of whitespace at both ends; null, "" and a missing
//    content are the same; content-part arrays arrive here already joined
//    (the frontend joins text parts with "\n"), so a string and an array of
//    one text part are the same;
//  - tool-call arguments are canonical JSON (canonical_json.h): key order,
//    spacing, escapes and 1 vs 1.0 do not matter;
//  - only role, content and the tool calls' names and arguments count:
//    `name`, `refusal`, `annotations`, `reasoning_content`, tool-call ids and
//    `tool_call_id` are ignored (clients drop, add or regenerate them).
// System and developer messages are not part of the key: they are hashed
// apart (system_hash), so a system prompt that changes in an ongoing
// conversation is detected and sent as an update rather than breaking the
// continuation (see docs/architecture.md, "Conversations").
// Everything else separates histories: roles, order, and any other change
// of text or arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/conversation/assistant_message.h"
#include "common/protocol/messages.h"

namespace qp::conversation {

struct HistoryDigest {
  // Hex key of the history up to and including the last assistant message;
  // empty when there is no assistant message or nothing but system
  // messages follows it (nothing new to send).
  std::string key;
  // Index of the first message after that assistant message (0 without key).
  uint32_t new_from = 0;
  // Hex chain value after every non-system message (for key_after_reply).
  std::string state;
  // Hex SHA-256 of the system and developer messages in order; empty if none.
  std::string system_hash;
};

HistoryDigest digest_history(const std::vector<protocol::ChatMessage>& messages);

// The key of the history whose chain value is `state_hex` followed by
// `reply` as the client got it (assistant_message.h): hashed directly, with
// the same function digest_history uses for an assistant message sent back.
// Empty if state_hex is not a 64-digit hex string.
std::string key_after_reply(std::string_view state_hex, const AssistantMessage& reply);

// Hex SHA-256 of the canonical form of an OpenAI `tools` array (JSON text);
// empty for empty input. Invalid JSON hashes as its trimmed text.
std::string tools_hash(std::string_view tools_json);

// Sets job->history (key, new_from, state, system and tools hashes) from
// job->messages and job->tools: what every API route does once its request
// became a JobRequest, so that all of them index conversations alike.
void fill_history(protocol::JobRequest* job);

}  // namespace qp::conversation
