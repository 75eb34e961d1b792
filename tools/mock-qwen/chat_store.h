// Chats, their per-chat message trees and ownership ([MOCK DECISION];
// docs/mock-qwen.md, "Message tree"). Pure in-memory state owned by the mock's
// loop thread; no I/O.
//
// Each completion adds a user node U (parent = the request's parent_id, or a
// new root when null) and an assistant node A (parent U). Both ids are valid
// later parent_ids. The context of a request is the path root..parent.
// The store is bounded: past max_chats the oldest chats that are not busy are
// evicted, so long benchmarks do not grow memory without limit.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qp::mock {

struct Message {
  std::string id;
  std::string parent_id;  // empty for a root
  std::string role;       // "user" | "assistant"
  std::string content;
  std::string model;
  int64_t timestamp_s = 0;
  std::vector<std::string> children;
};

struct Chat {
  std::string id;
  std::string owner;  // JWT user id, or the guest's bx-umidtoken
  std::string title;
  std::string model;
  std::string chat_type;
  int64_t created_at_s = 0;
  int64_t updated_at_s = 0;
  uint64_t seq = 0;  // creation order, for stable listing
  std::unordered_map<std::string, Message> messages;
  std::string current_id;  // newest message
  bool busy = false;       // a generation is running in this chat
};

class ChatStore {
 public:
  explicit ChatStore(size_t max_chats = 50'000) : max_chats_(max_chats) {}

  Chat& create(std::string id, std::string owner, std::string title, std::string model,
               std::string chat_type, int64_t now_s);
  // The chat if it exists and belongs to `owner`, else nullptr.
  Chat* find(std::string_view chat_id, std::string_view owner);
  // The chat regardless of owner, or nullptr.
  Chat* find_any(std::string_view chat_id);
  // Deletes a chat owned by `owner`. False if missing or foreign.
  bool erase(std::string_view chat_id, std::string_view owner);

  // True if parent_id is empty (new root) or names a message of the chat.
  static bool parent_valid(const Chat& chat, std::string_view parent_id);
  // Adds the user node U and the empty assistant node A of one turn.
  // REQUIRES: parent_valid(chat, parent_id); ids fresh.
  static void add_turn(Chat& chat, std::string_view parent_id, std::string user_id,
                       std::string assistant_id, std::string user_content, std::string_view model,
                       int64_t now_s);
  // Sets the text of an assistant node; no-op if it is gone.
  static void set_content(Chat& chat, std::string_view message_id, std::string content);
  // Messages on the path root..message_id (inclusive); empty if unknown.
  static std::vector<const Message*> path_to(const Chat& chat, std::string_view message_id);

  // The owner's chats, newest update first; page is 1-based.
  std::vector<const Chat*> list(std::string_view owner, int page, int page_size) const;

  size_t size() const { return chats_.size(); }
  void clear();

 private:
  void evict_if_needed();

  size_t max_chats_;
  uint64_t next_seq_ = 1;
  std::unordered_map<std::string, Chat> chats_;
  std::deque<std::string> order_;  // creation order, may contain erased ids
};

}  // namespace qp::mock
