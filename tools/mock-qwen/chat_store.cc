#include "tools/mock-qwen/chat_store.h"

#include <algorithm>

#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {

Chat& ChatStore::create(std::string id, std::string owner, std::string title, std::string model,
                        std::string chat_type, int64_t now_s) {
  evict_if_needed();
  order_.push_back(id);
  Chat& c = chats_[id];
  c.id = std::move(id);
  c.owner = std::move(owner);
  c.title = std::move(title);
  c.model = std::move(model);
  c.chat_type = std::move(chat_type);
  c.created_at_s = now_s;
  c.updated_at_s = now_s;
  c.seq = next_seq_++;
  return c;
}

void ChatStore::evict_if_needed() {
  // Each erased id is popped at most once and each busy chat is rotated at
  // most once per call, so this terminates.
  size_t rotations = 0;
  while (chats_.size() >= max_chats_ && !order_.empty() && rotations <= order_.size()) {
    std::string id = std::move(order_.front());
    order_.pop_front();
    auto it = chats_.find(id);
    if (it == chats_.end()) continue;
    if (it->second.busy) {
      order_.push_back(std::move(id));
      ++rotations;
      continue;
    }
    chats_.erase(it);
  }
  // Drop stale ids so order_ stays proportional to the live chats.
  if (order_.size() > 2 * chats_.size() + 1024) {
    std::deque<std::string> live;
    for (auto& id : order_) {
      if (chats_.count(id)) live.push_back(std::move(id));
    }
    order_.swap(live);
  }
}

Chat* ChatStore::find(std::string_view chat_id, std::string_view owner) {
  Chat* c = find_any(chat_id);
  if (c == nullptr || c->owner != owner) return nullptr;
  return c;
}

Chat* ChatStore::find_any(std::string_view chat_id) {
  auto it = chats_.find(std::string(chat_id));
  return it == chats_.end() ? nullptr : &it->second;
}

bool ChatStore::erase(std::string_view chat_id, std::string_view owner) {
  auto it = chats_.find(std::string(chat_id));
  if (it == chats_.end() || it->second.owner != owner) return false;
  chats_.erase(it);
  return true;
}

bool ChatStore::parent_valid(const Chat& chat, std::string_view parent_id) {
  return parent_id.empty() || chat.messages.count(std::string(parent_id)) > 0;
}

void ChatStore::add_turn(Chat& chat, std::string_view parent_id, std::string user_id,
                         std::string assistant_id, std::string user_content, std::string_view model,
                         int64_t now_s) {
  if (!parent_id.empty()) {
    auto it = chat.messages.find(std::string(parent_id));
    if (it != chat.messages.end()) it->second.children.push_back(user_id);
  }
  Message u;
  u.id = user_id;
  u.parent_id = std::string(parent_id);
  u.role = "user";
  u.content = std::move(user_content);
  u.model = std::string(model);
  u.timestamp_s = now_s;
  u.children.push_back(assistant_id);
  Message a;
  a.id = assistant_id;
  a.parent_id = user_id;
  a.role = "assistant";
  a.model = std::string(model);
  a.timestamp_s = now_s;
  chat.current_id = assistant_id;
  chat.updated_at_s = now_s;
  if (chat.title.empty() || chat.title == "New Chat") {
    chat.title = std::string(utf8_prefix(u.content, 40));
  }
  chat.messages.emplace(std::move(user_id), std::move(u));
  chat.messages.emplace(std::move(assistant_id), std::move(a));
}

void ChatStore::set_content(Chat& chat, std::string_view message_id, std::string content) {
  auto it = chat.messages.find(std::string(message_id));
  if (it != chat.messages.end()) it->second.content = std::move(content);
}

std::vector<const Message*> ChatStore::path_to(const Chat& chat, std::string_view message_id) {
  std::vector<const Message*> path;
  std::string id(message_id);
  // The tree is acyclic by construction; the bound guards against bugs.
  while (!id.empty() && path.size() <= chat.messages.size()) {
    auto it = chat.messages.find(id);
    if (it == chat.messages.end()) break;
    path.push_back(&it->second);
    id = it->second.parent_id;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<const Chat*> ChatStore::list(std::string_view owner, int page, int page_size) const {
  std::vector<const Chat*> mine;
  for (const auto& [id, c] : chats_) {
    if (c.owner == owner) mine.push_back(&c);
  }
  std::sort(mine.begin(), mine.end(), [](const Chat* a, const Chat* b) {
    if (a->updated_at_s != b->updated_at_s) return a->updated_at_s > b->updated_at_s;
    return a->seq > b->seq;
  });
  if (page < 1) page = 1;
  if (page_size < 1) page_size = 1;
  size_t begin = static_cast<size_t>(page - 1) * static_cast<size_t>(page_size);
  if (begin >= mine.size()) return {};
  size_t end = std::min(mine.size(), begin + static_cast<size_t>(page_size));
  return std::vector<const Chat*>(mine.begin() + static_cast<std::ptrdiff_t>(begin),
                                  mine.begin() + static_cast<std::ptrdiff_t>(end));
}

void ChatStore::clear() {
  chats_.clear();
  order_.clear();
}

}  // namespace qp::mock
