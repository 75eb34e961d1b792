#include "tools/mock-qwen/chat_store.h"

#include <string>

#include <catch2/catch.hpp>

using qp::mock::Chat;
using qp::mock::ChatStore;

TEST_CASE("chats belong to their owner", "[chat_store]") {
  ChatStore store;
  store.create("c1", "alice", "New Chat", "qwen3-max", "t2t", 100);
  CHECK(store.find("c1", "alice") != nullptr);
  CHECK(store.find("c1", "bob") == nullptr);  // foreign chat looks like a missing one
  CHECK(store.find("nope", "alice") == nullptr);
  CHECK(store.find_any("c1") != nullptr);
  CHECK_FALSE(store.erase("c1", "bob"));
  CHECK(store.erase("c1", "alice"));
  CHECK(store.find_any("c1") == nullptr);
}

TEST_CASE("each turn adds a user node and an assistant node", "[chat_store]") {
  ChatStore store;
  Chat& c = store.create("c1", "alice", "New Chat", "qwen3-max", "t2t", 100);
  CHECK(ChatStore::parent_valid(c, ""));
  CHECK_FALSE(ChatStore::parent_valid(c, "u1"));

  ChatStore::add_turn(c, "", "u1", "a1", "first question", "qwen3-max", 101);
  REQUIRE(c.messages.size() == 2);
  CHECK(c.messages.at("u1").parent_id.empty());
  CHECK(c.messages.at("u1").children == std::vector<std::string>{"a1"});
  CHECK(c.messages.at("a1").parent_id == "u1");
  CHECK(c.messages.at("a1").role == "assistant");
  CHECK(c.current_id == "a1");
  CHECK(c.title == "first question");

  // Both ids are valid parents ([MOCK DECISION]; docs/mock-qwen.md, "Message
  // tree").
  CHECK(ChatStore::parent_valid(c, "u1"));
  CHECK(ChatStore::parent_valid(c, "a1"));

  ChatStore::add_turn(c, "a1", "u2", "a2", "second", "qwen3-max", 102);
  ChatStore::set_content(c, "a1", "first answer");
  auto path = ChatStore::path_to(c, "a2");
  REQUIRE(path.size() == 4);
  CHECK(path[0]->id == "u1");
  CHECK(path[1]->content == "first answer");
  CHECK(path[2]->id == "u2");
  CHECK(path[3]->id == "a2");

  // Chaining to U drops A's answer from the context.
  ChatStore::add_turn(c, "u1", "u3", "a3", "branch", "qwen3-max", 103);
  auto branch = ChatStore::path_to(c, "u3");
  REQUIRE(branch.size() == 2);
  CHECK(branch[0]->id == "u1");
  CHECK(branch[1]->id == "u3");
  CHECK(c.messages.at("u1").children == std::vector<std::string>{"a1", "u3"});

  // A null parent in an existing chat starts a new root.
  ChatStore::add_turn(c, "", "u4", "a4", "new root", "qwen3-max", 104);
  CHECK(ChatStore::path_to(c, "a4").size() == 2);
  CHECK(ChatStore::path_to(c, "unknown").empty());
}

TEST_CASE("list pages the owner's chats newest first", "[chat_store]") {
  ChatStore store;
  for (int i = 0; i < 5; ++i) {
    store.create("c" + std::to_string(i), "alice", "t", "m", "t2t", 100 + i);
  }
  store.create("other", "bob", "t", "m", "t2t", 200);
  auto page1 = store.list("alice", 1, 2);
  REQUIRE(page1.size() == 2);
  CHECK(page1[0]->id == "c4");
  CHECK(page1[1]->id == "c3");
  auto page3 = store.list("alice", 3, 2);
  REQUIRE(page3.size() == 1);
  CHECK(page3[0]->id == "c0");
  CHECK(store.list("alice", 4, 2).empty());
  CHECK(store.list("bob", 1, 20).size() == 1);
  CHECK(store.list("alice", 0, 0).size() == 1);  // clamped to page 1, size 1
}

TEST_CASE("eviction drops the oldest idle chats and keeps busy ones", "[chat_store]") {
  ChatStore store(3);
  store.create("a", "u", "t", "m", "t2t", 1).busy = true;
  store.create("b", "u", "t", "m", "t2t", 2);
  store.create("c", "u", "t", "m", "t2t", 3);
  store.create("d", "u", "t", "m", "t2t", 4);  // evicts b, not the busy a
  CHECK(store.size() == 3);
  CHECK(store.find_any("a") != nullptr);
  CHECK(store.find_any("b") == nullptr);
  CHECK(store.find_any("d") != nullptr);
}

TEST_CASE("titles are cut on a character boundary", "[chat_store]") {
  ChatStore store;
  Chat& c = store.create("c1", "u", "New Chat", "m", "t2t", 1);
  std::string content(39, 'x');
  content += "\xE4\xBD\xA0\xE5\xA5\xBD";  // the 40-byte cut lands inside a character
  ChatStore::add_turn(c, "", "u1", "a1", content, "m", 2);
  CHECK(c.title == std::string(39, 'x'));
}
