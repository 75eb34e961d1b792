#include "worker/long_input.h"

#include "worker/prompt_builder.h"

namespace qp::worker {

LongInputSplit split_long_input(const std::vector<protocol::ChatMessage>& messages) {
  LongInputSplit out;
  size_t from = messages.size();
  for (size_t i = messages.size(); i-- > 0;) {
    if (messages[i].role == "assistant") break;
    if (messages[i].role != "system" && messages[i].role != "developer") from = i;
  }
  if (from == messages.size()) return out;  // nothing after the last assistant turn
  bool earlier = false;
  std::vector<protocol::ChatMessage> before;
  for (size_t i = 0; i < messages.size(); ++i) {
    bool system = messages[i].role == "system" || messages[i].role == "developer";
    if (i < from || system) {
      before.push_back(messages[i]);
      before.back().attachments.clear();  // the images go with the message, not the file
      earlier = true;
    }
  }
  if (!earlier) return out;
  out.context = build_prompt(before);
  out.latest = build_continuation(messages, from, /*system_changed=*/false);
  return out;
}

std::string long_input_message(const std::string& latest) {
  std::string out = "The system instructions and the conversation so far are in the attached file ";
  out.append(kContextFileName);
  out.append(". Read it first, then reply to the latest message, which follows.\n\n");
  out.append(latest);
  return out;
}

}  // namespace qp::worker
