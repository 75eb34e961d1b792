// Turns an OpenAI message history into the one user message the Qwen web API
// accepts per request (docs/upstream.md, "Flow of one chat request"). Pure.
//
// Two cases (docs/architecture.md, "Conversations"):
//  - build_prompt(): a new upstream chat gets the whole history (a first
//    turn, or a replay when no indexed chat can be continued);
//  - build_continuation(): a continued chat gets only what follows the
//    last assistant turn (the new user message and/or tool results).
//
// build_prompt() format:
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

// The message that continues an upstream chat which already holds
// messages[0..from): messages[from..] only. A lone user message is sent as
// its text; otherwise each message is a labelled block as above ([User],
// [Tool result: id]). With `system_changed`, the current system
// instructions come first under "[Updated system instructions]" (the chat
// holds the old ones; the model is told these replace them, or, if the
// system prompt was removed, to disregard the old ones).
std::string build_continuation(const std::vector<protocol::ChatMessage>& messages, size_t from,
                               bool system_changed);

}  // namespace qp::worker
