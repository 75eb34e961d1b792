#include "tools/mock-qwen/answer_script.h"

#include <string>

#include <catch2/catch.hpp>

#include "tools/mock-qwen/tokenizer.h"

using qp::mock::Answer;
using qp::mock::AnswerScript;

namespace {
AnswerScript must_parse(std::string_view json) {
  auto r = AnswerScript::parse(json);
  INFO((r.has_value() ? std::string("ok") : r.error().message()));
  REQUIRE(r.has_value());
  return std::move(r.value());
}
std::string rebuilt(const Answer& a) {
  std::string s;
  uint32_t b = 0;
  for (uint32_t e : a.reply_ends) {
    s += a.reply.substr(b, e - b);
    b = e;
  }
  return s;
}
}  // namespace

TEST_CASE("without rules the answer is the documented echo", "[answer_script]") {
  AnswerScript script;
  Answer a = script.answer("hello world", "qwen3-max", false);
  CHECK(a.reply == "You said: hello world");
  CHECK(a.rule_index == -1);
  CHECK(a.reply_ends.size() == qp::mock::count_tokens("You said: hello world"));
  CHECK(a.thinking.empty());
  Answer t = script.answer("x", "qwen3-max", true);
  CHECK(t.thinking == "Thinking about: x");
  CHECK(t.summary_title == "Thinking");
  Answer capped = script.answer("abcdef", "m", true, 3);
  CHECK(capped.reply == "You said: abc");
  CHECK(capped.thinking == "Thinking about: abc");
}

TEST_CASE("rules match by contains, equals and regex, first match wins", "[answer_script]") {
  AnswerScript script = must_parse(R"({"rules": [
    {"match": {"equals": "ping"}, "reply": "pong"},
    {"match": {"contains": "weather"}, "reply": "It is sunny."},
    {"match": {"regex": "^add ([0-9]+)$"}, "reply": "added"},
    {"match": {"contains": "weather", "model": "qwen3-coder-plus"}, "reply": "never: shadowed"},
    {"reply": "fallback for {{prompt}}"}
  ]})");
  CHECK(script.rule_count() == 5);
  CHECK(script.answer("ping", "m", false).reply == "pong");
  CHECK(script.answer("ping ", "m", false).reply == "fallback for ping ");
  CHECK(script.answer("the weather today", "m", false).reply == "It is sunny.");
  Answer re = script.answer("add 42", "m", false);
  CHECK(re.reply == "added");
  CHECK(re.rule_index == 2);
  CHECK(script.answer("add x", "m", false).rule_index == 4);
}

TEST_CASE("model filters and times limits", "[answer_script]") {
  AnswerScript script = must_parse(R"([
    {"match": {"contains": "x", "model": "qwen3-coder-plus"}, "reply": "coder"},
    {"match": {"contains": "x"}, "reply": "once", "times": 1},
    {"match": {}, "reply": "rest"}
  ])");
  CHECK(script.answer("x", "qwen3-coder-plus", false).reply == "coder");
  CHECK(script.answer("x", "qwen3-max", false).reply == "once");
  CHECK(script.answer("x", "qwen3-max", false).reply == "rest");
}

TEST_CASE("explicit tokens control the split exactly", "[answer_script]") {
  AnswerScript script = must_parse(R"([{"match": {"contains": "tool"}, "tokens":
      ["<tool", "_call>{\"name\":", "\"f\"", "", "}</tool_call>"],
      "thinking": "Plan for {{prompt}}", "summary_title": "Planning",
      "delays": {"token_delay_ms": 5, "first_token_delay_ms": 50}}])");
  Answer a = script.answer("use a tool", "m", true);
  CHECK(a.reply == "<tool_call>{\"name\":\"f\"}</tool_call>");
  CHECK(a.reply_ends.size() == 4);  // the empty token is skipped
  CHECK(rebuilt(a) == a.reply);
  CHECK(a.thinking == "Plan for use a tool");
  CHECK(a.summary_title == "Planning");
  CHECK(a.token_delay_ms == 5);
  CHECK(a.first_token_delay_ms == 50);
}

TEST_CASE("regex rules see the whole prompt, NUL bytes included", "[answer_script]") {
  AnswerScript script = must_parse(R"([{"match": {"regex": "end$"}, "reply": "matched"}])");
  std::string prompt("a\0b end", 7);
  CHECK(script.answer(prompt, "m", false).reply == "matched");
}

TEST_CASE("bad rule files give clear errors", "[answer_script]") {
  struct Case {
    const char* json;
    const char* error_part;
  };
  const Case cases[] = {
      {"not json", "rules:"},
      {"42", "expected an array or an object"},
      {R"({"nope": []})", "expected {\"rules\""},
      {R"([{"match": {"contains": "a"}}])", "rule 0: needs \"reply\" or \"tokens\""},
      {R"([{"reply": "a"}, {"reply": 1}])", "rule 1: \"reply\" must be a string"},
      {R"([{"reply": "a", "colour": "red"}])", "unknown key \"colour\""},
      {R"([{"reply": "a", "match": {"startswith": "x"}}])", "unknown match key"},
      {R"([{"reply": "a", "match": {"contains": "x", "equals": "y"}}])", "one of"},
      {R"([{"reply": "a", "match": {"regex": "("}}])", "bad regex"},
      {R"([{"reply": "a", "times": -1}])", "\"times\""},
      {R"([{"reply": "a", "delays": {"token_delay_ms": -5}}])", "token_delay_ms"},
      {R"([{"reply": "a"}] trailing)", "rules:"},
      {R"({"rules": []} trailing)", "rules:"},
  };
  for (const auto& c : cases) {
    auto r = AnswerScript::parse(c.json);
    INFO(c.json);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find(c.error_part) != std::string::npos);
  }
}

TEST_CASE("scripts can be copied (reset restores the start-up rules)", "[answer_script]") {
  AnswerScript a = must_parse(R"([{"match": {"regex": "x+"}, "reply": "xs", "times": 1}])");
  AnswerScript b = a;
  CHECK(a.answer("xx", "m", false).reply == "xs");
  CHECK(a.answer("xx", "m", false).reply == "You said: xx");
  CHECK(b.answer("xx", "m", false).reply == "xs");  // its own use count
}
