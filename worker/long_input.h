// Long inputs (docs/upstream.md, "Long inputs"): past
// upstream.long_input_bytes, a new chat's prompt is split in two: the system
// instructions and the earlier conversation go into a text file uploaded like
// any attachment (worker/upload_call.h), and the message itself keeps only the
// latest turn, inline, with a line that points the model at the file. Coding
// agents send 30-100 KB of system prompt every turn; a message that long is
// what the site is assumed to cut. Pure.
#pragma once

#include <string>
#include <vector>

#include "common/protocol/messages.h"

namespace qp::worker {

inline constexpr const char* kContextFileName = "conversation-context.txt";

struct LongInputSplit {
  std::string context;  // for the file: system instructions and earlier messages
  std::string latest;   // for the message: what follows the last assistant turn
};

// Splits `messages` at the latest turn: the messages after the last
// assistant message (or, without one, the last message). Empty context when
// there is nothing before it to move (a lone user message stays inline
// whatever its size).
LongInputSplit split_long_input(const std::vector<protocol::ChatMessage>& messages);

// The inline message that goes with the file: a line naming the file, then
// the latest turn.
std::string long_input_message(const std::string& latest);

}  // namespace qp::worker
