#include "worker/prompt_builder.h"

#include "worker/toolcalls/prompt_render.h"

namespace qp::worker {
namespace {

constexpr std::string_view kHeader =
    "The text below is a conversation transcript between a user and an AI assistant (you). "
    "Each message starts with a label in square brackets on its own line.";
constexpr std::string_view kFooter =
    "Write the assistant's next reply to the conversation above. Reply with the message text "
    "only, without a label.";

bool is_system(const protocol::ChatMessage& m) {
  return m.role == "system" || m.role == "developer";
}

void block(std::string* out, std::string_view label, std::string_view name, std::string_view text) {
  if (!out->empty()) out->append("\n\n");
  out->push_back('[');
  out->append(label);
  if (!name.empty()) {
    out->append(": ");
    out->append(name);
  }
  out->append("]\n");
  out->append(text);
}

std::string system_text(const std::vector<protocol::ChatMessage>& messages) {
  std::string system;
  for (const auto& m : messages) {
    if (!is_system(m) || m.content.empty()) continue;
    if (!system.empty()) system.append("\n\n");
    system.append(m.content);
  }
  return system;
}

// A block without a label: the tool protocol's own markup (tools/prompt_render.h).
void raw_block(std::string* out, std::string_view text) {
  if (!out->empty()) out->append("\n\n");
  out->append(text);
}

void message_block(std::string* out, const protocol::ChatMessage& m,
                   const toolcalls::CallNames& names) {
  if (m.role == "user") {
    block(out, "User", m.name, m.content);
  } else if (m.role == "assistant") {
    if (!m.content.empty() || m.tool_calls.empty()) block(out, "Assistant", m.name, m.content);
    if (!m.tool_calls.empty()) {
      block(out, "Assistant tool calls", "", toolcalls::render_assistant_tool_calls(m.tool_calls));
    }
  } else if (m.role == "tool") {
    raw_block(out,
              toolcalls::render_tool_result(m.tool_call_id, names.find(m.tool_call_id), m.content));
  } else if (m.role == "function") {
    block(out, "Tool result", m.name, m.content);
  } else {
    block(out, m.role, m.name, m.content);
  }
}

}  // namespace

std::string build_continuation(const std::vector<protocol::ChatMessage>& messages, size_t from,
                               bool system_changed) {
  std::string out;
  if (system_changed) {
    std::string system = system_text(messages);
    if (!system.empty()) {
      block(&out, "Updated system instructions", "",
            system + "\n\n(These instructions replace the earlier system instructions.)");
    } else {
      block(&out, "Updated system instructions", "",
            "(None: disregard the earlier system instructions.)");
    }
  }
  size_t others = 0;
  const protocol::ChatMessage* lone_user = nullptr;
  for (size_t i = from; i < messages.size(); ++i) {
    if (is_system(messages[i])) continue;
    ++others;
    if (messages[i].role == "user") lone_user = &messages[i];
  }
  if (out.empty() && others == 1 && lone_user != nullptr) return lone_user->content;
  toolcalls::CallNames names;
  for (const auto& m : messages) {
    if (!m.tool_calls.empty()) names.add(m.tool_calls);
  }
  for (size_t i = from; i < messages.size(); ++i) {
    if (!is_system(messages[i])) message_block(&out, messages[i], names);
  }
  return out;
}

std::string build_prompt(const std::vector<protocol::ChatMessage>& messages) {
  if (messages.size() == 1 && messages[0].role == "user") return messages[0].content;

  std::string out(kHeader);
  std::string system = system_text(messages);
  if (!system.empty()) block(&out, "System instructions", "", system);
  toolcalls::CallNames names;
  for (const auto& m : messages) {
    if (!m.tool_calls.empty()) names.add(m.tool_calls);
  }
  for (const auto& m : messages) {
    if (!is_system(m)) message_block(&out, m, names);
  }
  out.append("\n\n");
  out.append(kFooter);
  return out;
}

}  // namespace qp::worker
