// The assistant message as the client saw it (common/conversation/
// assistant_message.h) and its key (history_key.h: key_after_reply): built
// from JobChunk deltas, unfenced in non-streamed JSON mode, and keyed like
// the same message sent back by a client.
#include "common/conversation/assistant_message.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/conversation/history_key.h"
#include "tests/unit/common/assistant_reply.h"

using qp::conversation::AssistantMessage;
using qp::conversation::digest_history;
using qp::conversation::key_after_reply;
using qp::protocol::ChatMessage;
using qp::protocol::JobChunk;
using qp::protocol::ToolCallDelta;
using qp::testing::assistant_reply;
using qp::testing::msg;
using qp::testing::tool;

namespace {

JobChunk text(std::string content, std::string reasoning = {}) {
  JobChunk c;
  c.content = std::move(content);
  c.reasoning = std::move(reasoning);
  return c;
}

JobChunk calls(std::vector<ToolCallDelta> deltas) {
  JobChunk c;
  c.tool_calls = std::move(deltas);
  return c;
}

// The history of the pinned keys below: a system prompt, a question, a
// reply with text and two calls, their results, a request for JSON.
std::vector<ChatMessage> pinned_history() {
  return {
      msg("system", "Answer in JSON."),
      msg("user", "Weather in Paris and Rome?"),
      msg("assistant", "Let me check.",
          R"([{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":1}"}},{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}])"),
      tool("sunny", "call_1"),
      tool("rainy", "call_2"),
      msg("user", "As JSON please.")};
}

}  // namespace

TEST_CASE("assistant message: content and tool-call deltas by index", "[conversation]") {
  AssistantMessage m;
  CHECK(m.empty());
  m.add(text("Let me ", "thinking is not part of it"));
  m.add(text("check."));
  m.add(calls({{0, "call_a", "get_weather", ""}, {0, "", "", R"({"city":)"}}));
  m.add(calls({{1, "call_b", "get_time", R"({"tz":)"}, {0, "", "", R"("Paris"})"}}));
  m.add(calls({{1, "", "", R"("CET"})"}}));
  CHECK(m.content() == "Let me check.");
  REQUIRE(m.tool_calls().size() == 2);
  CHECK(m.tool_calls()[0].id == "call_a");
  CHECK(m.tool_calls()[0].name == "get_weather");
  CHECK(m.tool_calls()[0].arguments == R"({"city":"Paris"})");
  CHECK(m.tool_calls()[1].id == "call_b");
  CHECK(m.tool_calls()[1].name == "get_time");
  CHECK(m.tool_calls()[1].arguments == R"({"tz":"CET"})");
}

TEST_CASE("assistant message: out-of-range delta indices are dropped", "[conversation]") {
  AssistantMessage m;
  m.add(calls({{-1, "call_neg", "f", "{}"}}));  // negative
  m.add(calls({{1, "call_gap", "g", "{}"}}));   // a gap: no call 0 yet
  CHECK(m.tool_calls().empty());
  m.add(calls({{0, "call_0", "f", R"({"a":1})"}}));
  m.add(calls({{2, "", "", "junk"}, {7, "call_7", "h", "{}"}, {-3, "", "", "junk"}}));
  REQUIRE(m.tool_calls().size() == 1);
  CHECK(m.tool_calls()[0].arguments == R"({"a":1})");
  // The dropped deltas change nothing: same key as the clean message.
  const std::string state(64, '0');
  CHECK(key_after_reply(state, m) ==
        qp::testing::reply_key(state, "", {{"call_0", "f", R"({"a":1})"}}));
}

TEST_CASE("assistant message: non-streamed JSON mode returns the unfenced answer",
          "[conversation]") {
  const std::string fenced = "```json\n{\"city\": \"Paris\"}\n```\n";
  AssistantMessage streamed;
  streamed.add(text(fenced.substr(0, 9)));
  streamed.add(text(fenced.substr(9)));
  CHECK(streamed.content() == fenced);  // streamed text cannot be taken back
  AssistantMessage unfenced;
  unfenced.set_unfenced_json(true);
  unfenced.add(text(fenced.substr(0, 9)));
  unfenced.add(text(fenced.substr(9)));
  CHECK(unfenced.raw_content() == fenced);
  CHECK(unfenced.content() == "{\"city\": \"Paris\"}");
  // Unchanged when the text is JSON already, or when unfencing would not give JSON.
  CHECK(assistant_reply("{\"a\": 1}", {}, true).content() == "{\"a\": 1}");
  const std::string prose = "```\nnot json\n```";
  CHECK(assistant_reply(prose, {}, true).content() == prose);
  // The key hashes what the client got, so it continues with the unfenced text.
  const std::string state(64, 'a');
  CHECK(key_after_reply(state, unfenced) == qp::testing::reply_key(state, "{\"city\": \"Paris\"}"));
  CHECK(key_after_reply(state, unfenced) != key_after_reply(state, streamed));
}

TEST_CASE("assistant message: the reply's key is the key of the same message sent back",
          "[conversation]") {
  std::vector<ChatMessage> h = {msg("user", "Weather in Paris and Rome?")};
  AssistantMessage reply;
  reply.add(text("  Checking.\n"));
  reply.add(calls({{0, "call_0001", "get_weather", ""}, {0, "", "", R"({"city":"Paris",)"}}));
  reply.add(calls({{0, "", "", R"("days":1})"}, {1, "call_0002", "get_weather", ""}}));
  reply.add(calls({{1, "", "", R"({"city":"Rome","units":{"t":"c","w":"kmh"}})"}}));
  const std::string worker_key = key_after_reply(digest_history(h).state, reply);
  REQUIRE(worker_key.size() == 64);
  const char* echoes[] = {
      // As returned.
      R"([{"id":"call_0001","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":1}"}},{"id":"call_0002","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\",\"units\":{\"t\":\"c\",\"w\":\"kmh\"}}"}}])",
      // Regenerated ids, reordered keys, other spacing, 1.0.
      R"([ {"function": {"arguments": "{\"days\": 1.0, \"city\": \"Paris\"}", "name": "get_weather"}, "type": "function", "id": "call_X"},
           {"id": "call_Y", "function": {"name": "get_weather", "arguments": "{ \"units\" : { \"w\":\"kmh\", \"t\":\"c\" }, \"city\":\"Rome\" }"}} ])",
      // Arguments as objects, no ids.
      R"([{"function":{"name":"get_weather","arguments":{"days":1,"city":"Paris"}}},{"function":{"name":"get_weather","arguments":{"units":{"w":"kmh","t":"c"},"city":"Rome"}}}])",
  };
  for (const char* echoed : echoes) {
    INFO(echoed);
    std::vector<ChatMessage> next = h;
    next.push_back(msg("assistant", "Checking.", echoed));
    next.push_back(tool("sunny", "call_X"));
    CHECK(digest_history(next).key == worker_key);
  }
  // Another name, other arguments or another order of the calls is another message.
  std::vector<ChatMessage> swapped = h;
  swapped.push_back(msg(
      "assistant", "Checking.",
      R"([{"function":{"name":"get_weather","arguments":{"units":{"w":"kmh","t":"c"},"city":"Rome"}}},{"function":{"name":"get_weather","arguments":{"days":1,"city":"Paris"}}}])"));
  swapped.push_back(tool("sunny", "x"));
  CHECK(digest_history(swapped).key != worker_key);
}

// Keys persist in the session index (SQLite): an upgrade must not change
// them. These values were computed by the code before AssistantMessage
// (key_after_reply over the worker's spliced tool_calls JSON, and over
// json::returned_json_answer of the fenced answer).
TEST_CASE("assistant message: keys pinned from before the redesign", "[conversation][pinned]") {
  std::vector<ChatMessage> h = pinned_history();
  auto d = digest_history(h);
  CHECK(d.key == "c70091ab69217392594eb051406a3ac45fd2fdaaf7ec620df38f0c6eedc89db3");
  CHECK(d.state == "22bfcdfee70fa0d58ed0d7d968a872121f03b4c89929c1b2be205516e7d23502");
  CHECK(d.system_hash == "e0ee5c9622c7d9dac18530254d99c1f8744a0cc4b9e30b1bf543aec45527a007");

  // The worker's reply to the first two messages: text, then two calls.
  std::vector<ChatMessage> first(h.begin(), h.begin() + 2);
  AssistantMessage calls_reply;
  calls_reply.add(text("Let me check."));
  calls_reply.add(calls({{0, "call_x", "get_weather", ""},
                         {0, "", "", R"({"city":"Paris","days":1})"},
                         {1, "call_y", "get_weather", ""},
                         {1, "", "", R"({"city":"Rome"})"}}));
  CHECK(key_after_reply(digest_history(first).state, calls_reply) ==
        "c70091ab69217392594eb051406a3ac45fd2fdaaf7ec620df38f0c6eedc89db3");

  // A non-streamed JSON-mode answer the model fenced.
  AssistantMessage json_reply;
  json_reply.set_unfenced_json(true);
  json_reply.add(text("```json\n{\"weather\": {\"Paris\": \"sunny\"}}\n```"));
  CHECK(key_after_reply(d.state, json_reply) ==
        "b39f4035cde09b4d233b4b3b030263502fa702233eaa9de018cb6dedf2a72c29");

  // Histories a client may send: not an array (hashed raw), arguments as an
  // object, a call that is not an object.
  std::vector<ChatMessage> odd = {
      msg("user", "x"), msg("assistant", "", "not json"), msg("user", "y"),
      msg("assistant", " a ", R"([{"function":{"name":"f","arguments":{"b":1,"a":[1.0]}}}, 5])"),
      msg("user", "z")};
  CHECK(digest_history(odd).key ==
        "914484e1caa2731d619ceec6d955d606fbaa87aea919aa3417a59da0d619f784");
}
