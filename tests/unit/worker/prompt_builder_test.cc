#include "worker/prompt_builder.h"

#include <catch2/catch.hpp>

#include "worker/toolcalls/prompt_render.h"

using qp::protocol::ChatMessage;
using qp::worker::build_prompt;
namespace toolcalls = qp::worker::toolcalls;

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
      toolcalls::render_assistant_tool_calls(call.tool_calls) + "\n\n" +
      toolcalls::render_tool_result("call_1", "weather", "sunny") +
      "\n\n"
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

// --- build_continuation: only what follows the last assistant turn --

namespace {
using qp::worker::build_continuation;

ChatMessage tool_result(std::string content, std::string call_id) {
  ChatMessage m = msg("tool", std::move(content));
  m.tool_call_id = std::move(call_id);
  return m;
}
}  // namespace

TEST_CASE("continuation: a lone new user message is sent as its text", "[prompt]") {
  std::vector<ChatMessage> h = {msg("system", "Be brief."), msg("user", "hi"),
                                msg("assistant", "hello"), msg("user", "What is 2+2?")};
  CHECK(build_continuation(h, 3, false) == "What is 2+2?");
  // Nothing of the earlier history, the header or the footer.
  std::string p = build_continuation(h, 3, false);
  CHECK(p.find("hello") == std::string::npos);
  CHECK(p.find("Be brief.") == std::string::npos);
  // A system message among the new ones is skipped (it is not a new turn).
  std::vector<ChatMessage> with_sys = {msg("user", "hi"), msg("assistant", "hello"),
                                       msg("system", "Be brief."), msg("user", "next")};
  CHECK(build_continuation(with_sys, 2, false) == "next");
  // Text is sent as it is (no trimming, no label).
  std::vector<ChatMessage> spaced = {msg("user", "a"), msg("assistant", "b"),
                                     msg("user", "  two\nlines ")};
  CHECK(build_continuation(spaced, 2, false) == "  two\nlines ");
}

TEST_CASE("continuation: tool results and a user message are labelled blocks", "[prompt]") {
  ChatMessage call = msg("assistant", "");
  call.tool_calls =
      R"([{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{}"}},)"
      R"({"id":"call_2","type":"function","function":{"name":"time","arguments":"{}"}}])";
  std::vector<ChatMessage> h = {msg("user", "Weather and time?"), call,
                                tool_result("sunny", "call_1"), tool_result("12:00", "call_2"),
                                msg("user", "Thanks, and tomorrow?")};
  std::string p = build_continuation(h, 2, false);
  // Tool results in the tool protocol's result blocks (worker/toolcalls/prompt_render.h),
  // named after their calls.
  CHECK(p == toolcalls::render_tool_result("call_1", "weather", "sunny") + "\n\n" +
                 toolcalls::render_tool_result("call_2", "time", "12:00") +
                 "\n\n"
                 "[User]\nThanks, and tomorrow?");
  // Tool results alone.
  std::vector<ChatMessage> only_tools(h.begin(), h.begin() + 3);
  CHECK(build_continuation(only_tools, 2, false) ==
        toolcalls::render_tool_result("call_1", "weather", "sunny"));
  // Two user messages: both, labelled.
  std::vector<ChatMessage> two = {msg("user", "a"), msg("assistant", "b"), msg("user", "c"),
                                  msg("user", "d")};
  CHECK(build_continuation(two, 2, false) == "[User]\nc\n\n[User]\nd");
  // A named user keeps its name in the label when labelled.
  ChatMessage named = msg("user", "e");
  named.name = "bob";
  two.push_back(named);
  CHECK(build_continuation(two, 2, false) == "[User]\nc\n\n[User]\nd\n\n[User: bob]\ne");
}

TEST_CASE("continuation: a changed system prompt comes first, as an update", "[prompt]") {
  std::vector<ChatMessage> h = {msg("system", "Answer in French."), msg("user", "hi"),
                                msg("assistant", "salut"), msg("user", "How are you?")};
  std::string p = build_continuation(h, 3, true);
  REQUIRE(p.rfind("[Updated system instructions]\nAnswer in French.", 0) == 0);
  size_t user = p.find("[User]\nHow are you?");
  REQUIRE(user != std::string::npos);
  CHECK(p.find("replace the earlier system instructions") < user);
  CHECK(p.find("salut") == std::string::npos);
  CHECK(p.find("hi\n") == std::string::npos);
  // Every system message, joined, wherever it is in the history.
  std::vector<ChatMessage> two = {msg("system", "S1"), msg("user", "hi"), msg("assistant", "hello"),
                                  msg("developer", "S2"), msg("user", "go")};
  std::string q = build_continuation(two, 3, true);
  CHECK(q.rfind("[Updated system instructions]\nS1\n\nS2", 0) == 0);
  CHECK(q.size() > 9);
  CHECK(q.compare(q.size() - 9, 9, "[User]\ngo") == 0);
  // Unchanged: no update block.
  CHECK(build_continuation(h, 3, false) == "How are you?");
}
