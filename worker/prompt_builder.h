// Turns an OpenAI message history into the one user message the Qwen web
// API accepts per request (spec 2.3: exactly one message; spec 6.1: the
// stateless "flatten" strategy). Pure; kept apart so native multi-turn
// continuation (chat_id + parent_id) can replace it later.
//
// Format:
//   - a history that is a single user message is sent as its text, as-is;
//   - anything else becomes a transcript. System (and developer) messages
//     come first, joined, under "[System instructions]"; then every other
//     message in order, each under a label on its own line:
//       [User] / [User: name]
//       [Assistant]             (text, then its tool calls as JSON if any:
//       [Assistant tool calls]   the OpenAI tool_calls array)
//       [Tool result: id]       (role "tool", with tool_call_id)
//     Blocks are separated by a blank line. A short header says what the
//     text is and a closing line asks for the assistant's next reply only,
//     so the model neither continues the transcript nor repeats labels.
#pragma once

#include <string>
#include <vector>

#include "common/protocol/messages.h"

namespace qp::worker {

std::string build_prompt(const std::vector<protocol::ChatMessage>& messages);

}  // namespace qp::worker
