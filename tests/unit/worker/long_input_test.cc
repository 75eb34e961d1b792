// Long inputs (worker/long_input.h): where the prompt is split.
#include "worker/long_input.h"

#include <catch2/catch.hpp>

using qp::protocol::ChatMessage;
using namespace qp::worker;

namespace {
ChatMessage msg(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}
}  // namespace

TEST_CASE("long input: history and system go to the file, the latest turn stays inline",
          "[long_input]") {
  std::vector<ChatMessage> msgs = {msg("system", "BIG SYSTEM PROMPT"), msg("user", "first"),
                                   msg("assistant", "answer one"), msg("user", "second")};
  LongInputSplit s = split_long_input(msgs);
  CHECK(s.context.find("BIG SYSTEM PROMPT") != std::string::npos);
  CHECK(s.context.find("first") != std::string::npos);
  CHECK(s.context.find("answer one") != std::string::npos);
  CHECK(s.context.find("second") == std::string::npos);
  CHECK(s.latest == "second");
  std::string m = long_input_message(s.latest);
  CHECK(m.find(kContextFileName) != std::string::npos);
  CHECK(m.size() >= 6);
  CHECK(m.substr(m.size() - 6) == "second");
}

TEST_CASE("long input: a system prompt and one user message", "[long_input]") {
  std::vector<ChatMessage> msgs = {msg("system", "BIG"), msg("user", "hello")};
  LongInputSplit s = split_long_input(msgs);
  CHECK(s.context.find("BIG") != std::string::npos);
  CHECK(s.latest == "hello");
}

TEST_CASE("long input: a lone user message is not split", "[long_input]") {
  LongInputSplit s = split_long_input({msg("user", std::string(100000, 'x'))});
  CHECK(s.context.empty());
  // Nothing after the last assistant turn: nothing to keep inline either.
  LongInputSplit t = split_long_input({msg("user", "q"), msg("assistant", "a")});
  CHECK(t.context.empty());
}

TEST_CASE("long input: tool results after the last assistant turn stay inline", "[long_input]") {
  ChatMessage call = msg("assistant", "");
  call.tool_calls =
      R"([{"id":"c1","type":"function","function":{"name":"read","arguments":"{}"}}])";
  ChatMessage result = msg("tool", "file contents");
  result.tool_call_id = "c1";
  std::vector<ChatMessage> msgs = {msg("system", "S"), msg("user", "read it"), call, result};
  LongInputSplit s = split_long_input(msgs);
  CHECK(s.context.find("read it") != std::string::npos);
  CHECK(s.latest.find("file contents") != std::string::npos);
  CHECK(s.context.find("file contents") == std::string::npos);
}
