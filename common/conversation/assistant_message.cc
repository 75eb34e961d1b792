#include "common/conversation/assistant_message.h"

#include "common/json/json_output.h"

namespace qp::conversation {

void AssistantMessage::add_tool_call(const protocol::ToolCallDelta& delta) {
  // Deltas of one call share its index; the next index starts a call.
  if (delta.index < 0 || static_cast<size_t>(delta.index) > calls_.size()) return;
  if (static_cast<size_t>(delta.index) == calls_.size())
    calls_.push_back({delta.id, delta.name, {}});
  calls_[static_cast<size_t>(delta.index)].arguments.append(delta.arguments);
}

std::string_view AssistantMessage::content() const {
  return unfenced_json_ ? json::returned_json_answer(content_) : std::string_view(content_);
}

}  // namespace qp::conversation
