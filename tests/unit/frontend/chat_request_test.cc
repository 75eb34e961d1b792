#include "frontend/openai/chat_request.h"

#include <catch2/catch.hpp>

#include "frontend/openai/json_problem.h"

using namespace qp;
using namespace qp::frontend;

namespace {
struct Parsed {
  bool ok;
  ChatRequest req;
  ApiError err;
};
Parsed parse(std::string_view body) {
  static ChatRequestParser parser;  // reused, as in the server
  Parsed p;
  p.ok = parser.parse(body, &p.req, &p.err);
  return p;
}
}  // namespace

TEST_CASE("a minimal request parses", "[chat_request]") {
  auto p = parse(R"({"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]})");
  REQUIRE(p.ok);
  CHECK(p.req.job.model == "qwen3-max");
  REQUIRE(p.req.job.messages.size() == 1);
  CHECK(p.req.job.messages[0].role == "user");
  CHECK(p.req.job.messages[0].content == "hi");
  CHECK_FALSE(p.req.job.stream);
  CHECK_FALSE(p.req.include_usage);
}

TEST_CASE("all honoured fields are read", "[chat_request]") {
  auto p = parse(R"({
    "messages":[{"role":"developer","content":"sys"},
                {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
                {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"c1","content":"42"}],
    "model":"m","stream":true,"stream_options":{"include_usage":true},
    "max_tokens":10,"max_completion_tokens":20,"temperature":0.2,"top_p":1,
    "stop":["x","y"],"n":1,"user":"u","tools":[{"type":"function","function":{"name":"f"}}],
    "tool_choice":"auto","response_format":{"type":"json_object"},"qwen_chat_id":"c",
    "logit_bias":{"1":2},"metadata":{"a":"b"},"seed":3,"reasoning_effort":"low","some_future_field":[1]
  })");
  REQUIRE(p.ok);
  const auto& j = p.req.job;
  CHECK(j.messages[0].role == "system");
  CHECK(j.messages[1].content == "a\nb");
  CHECK(j.messages[2].content.empty());
  CHECK(j.messages[2].tool_calls.find("\"c1\"") != std::string::npos);
  CHECK(j.messages[3].tool_call_id == "c1");
  CHECK(j.stream);
  CHECK(p.req.include_usage);
  CHECK(j.max_tokens == 20);  // max_completion_tokens wins
  CHECK(j.temperature == Approx(0.2));
  CHECK(j.stop == std::vector<std::string>{"x", "y"});
  CHECK(j.user == "u");
  CHECK(j.tools.front() == '[');
  CHECK(j.tool_choice == "\"auto\"");
  CHECK(j.response_format == R"({"type":"json_object"})");
  CHECK(j.chat_id == "c");
  CHECK(p.req.want_json);
  auto text = parse(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"text","json_schema":1}})");
  REQUIRE(text.ok);
  CHECK_FALSE(text.req.want_json);
}

TEST_CASE("validation errors name the parameter", "[chat_request]") {
  struct Case {
    const char* body;
    const char* param;
  } cases[] = {
      {R"({"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"m"})", "messages"},
      {R"({"model":"m","messages":[]})", "messages"},
      {R"({"model":5,"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"m","messages":"hi"})", "messages"},
      {R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user"}]})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})",
       "messages[0].content[0]"},
      {R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", "messages[0].tool_call_id"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":2})", "n"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})",
       "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3})",
       "temperature"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})",
       "stop"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1]})", "stop[0]"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":{}})", "tools"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"always"})",
       "tool_choice"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"retrieval"}]})",
       "tools[0].type"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})",
       "tools[0].function"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]})",
       "tools[0].function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a b"}}]})",
       "tools[0].function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":[]}}]})",
       "tools[0].function.parameters"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]})",
       "tools[1].function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":"g"}},"tools":[{"type":"function","function":{"name":"f"}}]})",
       "tool_choice"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required"})",
       "tool_choice"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function"}})",
       "tool_choice.function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})",
       "stream_options.include_usage"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}})",
       "response_format.type"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{}})",
       "response_format.type"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}})",
       "response_format.json_schema"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":{}}}})",
       "response_format.json_schema.name"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto p = parse(c.body);
    REQUIRE_FALSE(p.ok);
    CHECK(p.err.code == Code::kInvalidArgument);
    CHECK(p.err.param == c.param);
    CHECK_FALSE(p.err.message.empty());
  }
}

TEST_CASE("tools and a named tool_choice are accepted in any order", "[chat_request]") {
  auto p = parse(R"({"tool_choice":{"type":"function","function":{"name":"read_file"}},"model":"m",
    "messages":[{"role":"user","content":"x"}],
    "tools":[{"type":"function","function":{"name":"read_file","description":"d",
              "parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]},"strict":true}},
             {"type":"function","function":{"name":"attempt_completion"}}]})");
  REQUIRE(p.ok);
  CHECK(p.req.job.tool_choice.find("read_file") != std::string::npos);
}

TEST_CASE("parallel_tool_calls is read, true by default", "[chat_request]") {
  auto dflt = parse(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  REQUIRE(dflt.ok);
  CHECK(dflt.req.job.parallel_tool_calls);
  auto off = parse(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"parallel_tool_calls":false})");
  REQUIRE(off.ok);
  CHECK_FALSE(off.req.job.parallel_tool_calls);
  auto null = parse(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"parallel_tool_calls":null})");
  REQUIRE(null.ok);
  CHECK(null.req.job.parallel_tool_calls);
  auto bad = parse(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"parallel_tool_calls":"no"})");
  REQUIRE_FALSE(bad.ok);
  CHECK(bad.err.param == "parallel_tool_calls");
}

TEST_CASE("malformed JSON is a 400 without a param", "[chat_request]") {
  for (const char* body :
       {"", "{", "[]", "null", "{\"model\":\"m\",}", "{} trailing", "\xff\xfe"}) {
    INFO(body);
    auto p = parse(body);
    REQUIRE_FALSE(p.ok);
    CHECK(p.err.code == Code::kInvalidArgument);
    CHECK(p.err.param.empty());
  }
}

TEST_CASE("the parser survives mutated input", "[chat_request]") {
  std::string base =
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"stop":["x"],"stream":true})";
  uint32_t x = 12345;
  for (int i = 0; i < 3000; ++i) {
    std::string b = base;
    x = x * 1103515245 + 12345;
    b[x % b.size()] = static_cast<char>(x >> 16);
    (void)parse(b);
    b.resize(x % b.size());
    (void)parse(b);
  }
  SUCCEED();
}

// Values simdjson refuses although they have the right type used to be
// reported as "expected a string, but got a string".
TEST_CASE("an unpaired surrogate escape is named as such, with its path", "[chat_request]") {
  auto p = parse(R"({"model":"m","messages":[{"role":"user","content":"a\ud800b"}]})");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.param == "messages[0].content");
  CHECK(p.err.message.find("surrogate") != std::string::npos);
  CHECK(p.err.message.find("\\ud800") != std::string::npos);
  CHECK(p.err.message.find("but got a string") == std::string::npos);
  // A lone low surrogate, and one inside a content part.
  p = parse(
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"\udc00"}]}]})");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.param == "messages[0].content[0].text");
  CHECK(p.err.message.find("surrogate") != std::string::npos);
  // A proper pair is fine.
  p = parse(R"({"model":"m","messages":[{"role":"user","content":"\ud83d\ude00"}]})");
  CHECK(p.ok);
}

TEST_CASE("a number out of range is named as such", "[chat_request]") {
  auto p = parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1e400})");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.param == "temperature");
  CHECK(p.err.message.find("out of range") != std::string::npos);
  CHECK(p.err.message.find("but got a number") == std::string::npos);
  p = parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1e400})");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.param == "max_tokens");
  CHECK(p.err.message.find("out of range") != std::string::npos);
  p = parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1e300})");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.message.find("out of range") != std::string::npos);
}

TEST_CASE("too deep a tool schema is reported as too deep", "[chat_request]") {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",)"
      R"("function":{"name":"f","parameters":{"type":"object","default":)" +
      deep + "}}}]}";
  auto p = parse(body);
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.param == "tools");
  CHECK(p.err.message.find("nested too deeply") != std::string::npos);
  CHECK(p.err.message.find("expected an array") == std::string::npos);
  // A lone surrogate inside tools is named too.
  p = parse(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",)"
      R"("function":{"name":"f","description":"\ud800"}}]})");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.param == "tools");
  CHECK(p.err.message.find("surrogate") != std::string::npos);
}

TEST_CASE("unpaired_surrogate finds only unpaired escapes", "[chat_request]") {
  CHECK(unpaired_surrogate(R"("\ud800")") == "\\ud800");
  CHECK(unpaired_surrogate(R"("\uDC00x")") == "\\uDC00");
  CHECK(unpaired_surrogate(R"("\ud83d\ude00")").empty());
  CHECK(unpaired_surrogate(R"("\\ud800")").empty());  // an escaped backslash, then text
  CHECK(unpaired_surrogate(R"("\ud83d\u0041")") == "\\ud83d");
  CHECK(unpaired_surrogate(R"("\ud83d")") == "\\ud83d");
}

TEST_CASE("web_search_options turns search on; reasoning_effort sets thinking",
          "[chat_request][features]") {
  auto plain = parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  REQUIRE(plain.ok);
  CHECK(plain.req.job.features.empty());

  auto s = parse(
      R"({"model":"m","web_search_options":{"search_context_size":"low","user_location":{"type":"approximate"}},"messages":[{"role":"user","content":"hi"}]})");
  REQUIRE(s.ok);
  CHECK(s.req.job.features.search);
  CHECK(s.req.job.features.thinking == -1);
  auto empty_obj =
      parse(R"({"model":"m","web_search_options":{},"messages":[{"role":"user","content":"hi"}]})");
  REQUIRE(empty_obj.ok);
  CHECK(empty_obj.req.job.features.search);
  auto null_opt = parse(
      R"({"model":"m","web_search_options":null,"messages":[{"role":"user","content":"hi"}]})");
  REQUIRE(null_opt.ok);
  CHECK_FALSE(null_opt.req.job.features.search);
  auto bad = parse(
      R"({"model":"m","web_search_options":true,"messages":[{"role":"user","content":"hi"}]})");
  REQUIRE_FALSE(bad.ok);
  CHECK(bad.err.param == "web_search_options");

  struct Case {
    const char* effort;
    int32_t thinking;
    int64_t budget;
  };
  for (Case c : {Case{"none", 0, 0}, Case{"minimal", 0, 0}, Case{"low", 0, 0},
                 Case{"medium", 1, kEffortBudgetMedium}, Case{"high", 1, kEffortBudgetHigh},
                 Case{"xhigh", 1, kEffortBudgetXHigh}}) {
    auto r = parse(std::string(R"({"model":"m","reasoning_effort":")") + c.effort +
                   R"(","messages":[{"role":"user","content":"hi"}]})");
    INFO(c.effort);
    REQUIRE(r.ok);
    CHECK(r.req.job.features.thinking == c.thinking);
    CHECK(r.req.job.features.thinking_budget == c.budget);
    CHECK_FALSE(r.req.job.features.search);
  }
  auto wrong = parse(
      R"({"model":"m","reasoning_effort":"maximum","messages":[{"role":"user","content":"hi"}]})");
  REQUIRE_FALSE(wrong.ok);
  CHECK(wrong.err.param == "reasoning_effort");
  CHECK(wrong.err.message.find("'maximum'") != std::string::npos);
  auto wrong_type =
      parse(R"({"model":"m","reasoning_effort":3,"messages":[{"role":"user","content":"hi"}]})");
  REQUIRE_FALSE(wrong_type.ok);
  CHECK(wrong_type.err.param == "reasoning_effort");
}
