#include "worker/prompt_builder.h"

#include <catch2/catch.hpp>

using qp::protocol::ChatMessage;
using qp::worker::build_prompt;

namespace {
ChatMessage msg(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}
}  // namespace

TEST_CASE("prompt: a single user message is sent as-is", "[prompt]") {
  CHECK(build_prompt({msg("user", "explain law to an alien")}) == "explain law to an alien");
  CHECK(build_prompt({msg("user", "")}).empty());
}

TEST_CASE("prompt: system + user becomes a transcript with the system first", "[prompt]") {
  std::string p = build_prompt({msg("user", "hi"), msg("system", "Be brief.")});
  size_t sys = p.find("[System instructions]\nBe brief.");
  size_t user = p.find("[User]\nhi");
  REQUIRE(sys != std::string::npos);
  REQUIRE(user != std::string::npos);
  CHECK(sys < user);
  CHECK(p.find("Write the assistant's next reply") > user);
}

TEST_CASE("prompt: full multi-turn history with tools", "[prompt]") {
  std::vector<ChatMessage> h;
  h.push_back(msg("system", "S1"));
  h.push_back(msg("developer", "S2"));
  h.push_back(msg("user", "What is the weather?"));
  ChatMessage call = msg("assistant", "");
  call.tool_calls =
      R"([{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{}"}}])";
  h.push_back(call);
  ChatMessage result = msg("tool", "sunny");
  result.tool_call_id = "call_1";
  h.push_back(result);
  h.push_back(msg("assistant", "It is sunny."));
  ChatMessage named = msg("user", "Thanks");
  named.name = "bob";
  h.push_back(named);

  std::string p = build_prompt(h);
  const std::string expected_body =
      "[System instructions]\nS1\n\nS2\n\n"
      "[User]\nWhat is the weather?\n\n"
      "[Assistant tool calls]\n" +
      call.tool_calls +
      "\n\n"
      "[Tool result: call_1]\nsunny\n\n"
      "[Assistant]\nIt is sunny.\n\n"
      "[User: bob]\nThanks\n\n";
  CHECK(p.find(expected_body) != std::string::npos);
  CHECK(p.rfind("Write the assistant's next reply", std::string::npos) > p.find("[User: bob]"));
  CHECK(p.find("[Assistant]\n\n") == std::string::npos);  // no empty assistant block
}

TEST_CASE("prompt: a lone assistant or two user messages are transcripts", "[prompt]") {
  std::string p = build_prompt({msg("user", "a"), msg("user", "b")});
  CHECK(p.find("[User]\na\n\n[User]\nb") != std::string::npos);
}
