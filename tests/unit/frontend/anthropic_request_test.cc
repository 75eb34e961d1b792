// The Anthropic Messages request parser: every shape current Claude Code
// sends (tests/testdata/anthropic/ holds two real-sized requests), the
// mapping onto the OpenAI-shaped JobRequest, and Anthropic-shaped 400s.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "common/conversation/history_key.h"
#include "frontend/anthropic/errors.h"
#include "frontend/anthropic/messages_request.h"
#include "tests/unit/common/assistant_reply.h"

using namespace qp;
using namespace qp::frontend;
using namespace qp::frontend::anthropic;

namespace {
struct Parsed {
  bool ok;
  MessagesRequest req;
  ApiError err;
};
Parsed parse(std::string_view body,
             MessagesRequestParser::Mode mode = MessagesRequestParser::Mode::kMessages) {
  static MessagesRequestParser parser;  // reused, as in the server
  Parsed p;
  p.ok = parser.parse(body, mode, &p.req, &p.err);
  return p;
}
std::string fixture(const char* name) {
  std::ifstream f(std::string(QP_TESTDATA_DIR) + "/anthropic/" + name);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
// A request with `extra` fields and these messages.
std::string req(const std::string& messages, const std::string& extra = "") {
  return R"({"model":"claude-opus-5-5","max_tokens":1024,)" + extra + R"("messages":)" + messages +
         "}";
}
}  // namespace

TEST_CASE("anthropic: a minimal request parses", "[anthropic_request]") {
  auto p = parse(req(R"([{"role":"user","content":"hi"}])"));
  REQUIRE(p.ok);
  CHECK(p.req.requested_model == "claude-opus-5-5");
  CHECK(p.req.job.model == "claude-opus-5-5");  // mapped by the frontend
  CHECK(p.req.job.max_tokens == 1024);
  REQUIRE(p.req.job.messages.size() == 1);
  CHECK(p.req.job.messages[0].role == "user");
  CHECK(p.req.job.messages[0].content == "hi");
  CHECK_FALSE(p.req.job.stream);
  CHECK_FALSE(p.req.thinking);
  CHECK(p.req.input_bytes == 2);
}

TEST_CASE("system blocks with cache_control, role:system messages and text blocks",
          "[anthropic_request]") {
  auto p = parse(req(
      R"([{"role":"system","content":"env A"},
          {"role":"user","content":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},{"type":"text","text":"b"}]},
          {"role":"system","content":[{"type":"text","text":"env B"}]}])",
      R"("system":[{"type":"text","text":"S1"},{"type":"text","text":"S2","cache_control":{"type":"ephemeral","ttl":"1h"}}],"stream":true,)"));
  REQUIRE(p.ok);
  auto& m = p.req.job.messages;
  REQUIRE(m.size() == 4);
  CHECK(m[0].role == "system");
  CHECK(m[0].content == "S1\nS2");
  CHECK(m[1].role == "system");
  CHECK(m[1].content == "env A");
  CHECK(m[2].role == "user");
  CHECK(m[2].content == "a\nb");
  CHECK(m[3].role == "system");
  CHECK(p.req.job.stream);
  CHECK_FALSE(p.req.job.history.system_hash.empty());
}

TEST_CASE("tool_use becomes tool_calls, tool_result a tool message; thinking sent back is dropped",
          "[anthropic_request]") {
  auto p = parse(req(
      R"([{"role":"user","content":"list"},
          {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"x"},
            {"type":"text","text":"I'll list."},
            {"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls","n":1}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"a.txt"}],"cache_control":{"type":"ephemeral"}},
            {"type":"tool_result","tool_use_id":"toolu_2","content":"boom","is_error":true},
            {"type":"text","text":"now count"}]}])"));
  REQUIRE(p.ok);
  auto& m = p.req.job.messages;
  REQUIRE(m.size() == 5);
  CHECK(m[1].role == "assistant");
  CHECK(m[1].content == "I'll list.");
  CHECK(
      m[1].tool_calls ==
      R"([{"id":"toolu_1","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"ls\",\"n\":1}"}}])");
  CHECK(m[2].role == "tool");
  CHECK(m[2].tool_call_id == "toolu_1");
  CHECK(m[2].content == "a.txt");
  CHECK(m[3].tool_call_id == "toolu_2");
  CHECK(m[3].content == "Error: boom");
  CHECK(m[4].role == "user");
  CHECK(m[4].content == "now count");
  // The history through the assistant's tool call is keyed as the worker
  // keys its reply: "I'll list." plus the Bash call.
  std::string state = conversation::digest_history({m[0]}).state;
  CHECK(p.req.job.history.key ==
        qp::testing::reply_key(state, "I'll list.", {{"", "Bash", R"({"n":1,"command":"ls"})"}}));
  CHECK(p.req.job.history.new_from == 2);
}

TEST_CASE("cache_control, thinking blocks and system text never change the conversation key",
          "[anthropic_request]") {
  auto plain = parse(req(
      R"([{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"q2"}])"));
  auto decorated = parse(req(
      R"([{"role":"system","content":"env"},{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]},
          {"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"a","cache_control":{"type":"ephemeral"}}]},
          {"role":"system","content":"env again"},{"role":"user","content":"q2"}])",
      R"("system":[{"type":"text","text":"big","cache_control":{"type":"ephemeral"}}],)"));
  REQUIRE(plain.ok);
  REQUIRE(decorated.ok);
  CHECK_FALSE(plain.req.job.history.key.empty());
  CHECK(decorated.req.job.history.key == plain.req.job.history.key);
}

TEST_CASE("tools: custom and defer_loading tools become OpenAI tools; server tools are ignored",
          "[anthropic_request]") {
  auto p = parse(req(
      R"([{"role":"user","content":"x"}])",
      R"("tools":[{"name":"Read","description":"Reads","input_schema":{"type":"object","properties":{"p":{"type":"string"}}}},
                      {"name":"ToolSearch","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}},
                      {"name":"mcp__gh__issue","input_schema":{"type":"object"},"defer_loading":true,"type":"custom"},
                      {"type":"web_search_20250305","name":"web_search","max_uses":5}],
                      "tool_choice":{"type":"tool","name":"Read","disable_parallel_tool_use":true},)"));
  REQUIRE(p.ok);
  CHECK(
      p.req.job.tools ==
      R"([{"type":"function","function":{"name":"Read","description":"Reads","parameters":{"type":"object","properties":{"p":{"type":"string"}}}}},)"
      R"({"type":"function","function":{"name":"ToolSearch","parameters":{"type":"object"}}},)"
      R"({"type":"function","function":{"name":"mcp__gh__issue","parameters":{"type":"object"}}}])");
  CHECK(p.req.job.tool_choice == R"({"type":"function","function":{"name":"Read"}})");
  CHECK_FALSE(p.req.job.parallel_tool_calls);
  CHECK_FALSE(p.req.job.history.tools_hash.empty());

  auto any = parse(req(
      R"([{"role":"user","content":"x"}])",
      R"("tools":[{"name":"A","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"},)"));
  REQUIRE(any.ok);
  CHECK(any.req.job.tool_choice == "\"required\"");
  auto none = parse(req(R"([{"role":"user","content":"x"}])", R"("tool_choice":{"type":"none"},)"));
  REQUIRE(none.ok);
  CHECK(none.req.job.tool_choice == "\"none\"");
  auto only_server = parse(req(R"([{"role":"user","content":"x"}])",
                               R"("tools":[{"type":"bash_20250124","name":"bash"}],)"));
  REQUIRE(only_server.ok);
  CHECK(only_server.req.job.tools.empty());
}

TEST_CASE("thinking adaptive, enabled and disabled; display omitted", "[anthropic_request]") {
  auto adaptive = parse(req(R"([{"role":"user","content":"x"}])",
                            R"("thinking":{"type":"adaptive","display":"omitted"},)"));
  REQUIRE(adaptive.ok);
  CHECK(adaptive.req.thinking);
  CHECK(adaptive.req.thinking_omitted);
  auto enabled = parse(req(R"([{"role":"user","content":"x"}])",
                           R"("thinking":{"type":"enabled","budget_tokens":31999},)"));
  REQUIRE(enabled.ok);
  CHECK(enabled.req.thinking);
  CHECK_FALSE(enabled.req.thinking_omitted);
  auto disabled =
      parse(req(R"([{"role":"user","content":"x"}])", R"("thinking":{"type":"disabled"},)"));
  REQUIRE(disabled.ok);
  CHECK_FALSE(disabled.req.thinking);
  auto bad = parse(req(R"([{"role":"user","content":"x"}])", R"("thinking":{"type":"maybe"},)"));
  REQUIRE_FALSE(bad.ok);
  CHECK(bad.err.param == "thinking.type");
  auto no_budget =
      parse(req(R"([{"role":"user","content":"x"}])", R"("thinking":{"type":"enabled"},)"));
  REQUIRE_FALSE(no_budget.ok);
  CHECK(no_budget.err.message.find("budget_tokens") != std::string::npos);
}

TEST_CASE("Claude Code's other fields are accepted: output_config, context_management, metadata",
          "[anthropic_request]") {
  auto p = parse(req(
      R"([{"role":"user","content":"x"}])",
      R"("output_config":{"effort":"high"},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
                        "metadata":{"user_id":"{\"device_id\":\"d\",\"session_id\":\"s\"}"},"temperature":1,"top_p":0.9,"top_k":40,
                        "stop_sequences":["END"],"service_tier":"auto","anthropic_future_field":{"x":[1]},)"));
  REQUIRE(p.ok);
  CHECK(p.req.job.temperature == 1);
  CHECK(p.req.job.top_p == 0.9);
  REQUIRE(p.req.job.stop.size() == 1);
  CHECK(p.req.job.stop[0] == "END");
}

TEST_CASE("Claude Code's real first request (75 KB) and a later turn", "[anthropic_request]") {
  std::string first = fixture("claude_code_first.json");
  CHECK(first.size() > 70 * 1024);
  auto p = parse(first);
  REQUIRE(p.ok);
  CHECK(p.req.requested_model == "claude-opus-5-5");
  CHECK(p.req.job.max_tokens == 128000);
  CHECK(p.req.job.stream);
  CHECK(p.req.thinking);
  CHECK(p.req.thinking_omitted);
  REQUIRE(p.req.job.messages.size() == 3);
  CHECK(p.req.job.messages[0].role == "system");  // the system blocks
  CHECK(p.req.job.messages[1].role == "system");  // the environment message
  CHECK(p.req.job.messages[2].role == "user");
  CHECK(p.req.job.history.key.empty());  // a new conversation
  CHECK(p.req.job.tools.find("\"name\":\"ToolSearch\"") != std::string::npos);
  CHECK(p.req.job.tools.find("\"name\":\"mcp__github__create_issue\"") != std::string::npos);
  CHECK(estimate_tokens(p.req.input_bytes) > 15000);

  auto t2 = parse(fixture("claude_code_turn2.json"));
  REQUIRE(t2.ok);
  CHECK(t2.req.thinking);
  CHECK_FALSE(t2.req.thinking_omitted);
  auto& m = t2.req.job.messages;
  REQUIRE(m.size() == 7);
  CHECK(m[3].role == "assistant");
  CHECK(m[3].content == "I'll list them.");
  CHECK(m[3].tool_calls.find("\"name\":\"Bash\"") != std::string::npos);
  CHECK(m[4].role == "tool");
  CHECK(m[4].content == "a.txt\nb.txt");
  CHECK(m[5].role == "system");
  CHECK(m[6].content == "CC-MARKER-2 and now count them");
  CHECK_FALSE(t2.req.job.history.key.empty());
  CHECK(t2.req.job.history.new_from == 4);
  // The same tools in both turns: the same tools hash.
  CHECK(t2.req.job.history.tools_hash == p.req.job.history.tools_hash);
}

TEST_CASE("count_tokens mode does not need max_tokens", "[anthropic_request]") {
  std::string body =
      R"({"model":"claude-opus-5-5","messages":[{"role":"user","content":"12345678"}]})";
  auto p = parse(body, MessagesRequestParser::Mode::kCountTokens);
  REQUIRE(p.ok);
  CHECK(estimate_tokens(p.req.input_bytes) == 2);
  auto m = parse(body);
  REQUIRE_FALSE(m.ok);
  CHECK(m.err.param == "max_tokens");
  CHECK(m.err.message == "max_tokens: Field required");
}

TEST_CASE("invalid requests get Anthropic-shaped 400s naming the field", "[anthropic_request]") {
  struct Case {
    std::string body;
    std::string param;
  };
  const Case cases[] = {
      {"not json", ""},
      {"{} x", ""},
      {R"({"max_tokens":1,"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"claude-x","max_tokens":1})", "messages"},
      {req("[]"), "messages"},
      {R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]})", "max_tokens"},
      {R"({"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"x"}]})",
       "max_tokens"},
      {req(R"([{"role":"bot","content":"x"}])"), "messages.0.role"},
      {req(R"([{"role":"user"}])"), "messages.0.content"},
      {req(R"([{"role":"user","content":[{"type":"image","source":{}}]}])"),
       "messages.0.content.0.source.type"},
      {req(R"([{"role":"user","content":[{"type":"document"}]}])"), "messages.0.content.0.source"},
      {req(R"([{"role":"assistant","content":[{"type":"image","source":{}}]}])"),
       "messages.0.content.0"},
      {req(R"([{"role":"user","content":[{"type":"video"}]}])"), "messages.0.content.0.type"},
      {req(R"([{"role":"user","content":[{"text":"x"}]}])"), "messages.0.content.0.type"},
      {req(R"([{"role":"user","content":[{"type":"tool_use","id":"a","name":"b","input":{}}]}])"),
       "messages.0.content.0.type"},
      {req(R"([{"role":"assistant","content":[{"type":"tool_use","name":"b","input":{}}]}])"),
       "messages.0.content.0.id"},
      {req(R"([{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"b","input":[1]}]}])"),
       "messages.0.content.0.input"},
      {req(R"([{"role":"user","content":[{"type":"tool_result","content":"x"}]}])"),
       "messages.0.content.0.tool_use_id"},
      {req(R"([{"role":"user","content":"x"}])",
           R"("tools":[{"name":"bad name","input_schema":{}}],)"),
       "tools.0.name"},
      {req(R"([{"role":"user","content":"x"}])", R"("tools":[{"name":"a"}],)"),
       "tools.0.input_schema"},
      {req(R"([{"role":"user","content":"x"}])",
           R"("tools":[{"name":"a","input_schema":{}},{"name":"a","input_schema":{}}],)"),
       "tools.1.name"},
      {req(R"([{"role":"user","content":"x"}])", R"("tool_choice":{"type":"any"},)"),
       "tool_choice"},
      {req(R"([{"role":"user","content":"x"}])", R"("tool_choice":{"type":"tool","name":"zz"},)"),
       "tool_choice.name"},
      {req(R"([{"role":"user","content":"x"}])", R"("tool_choice":{"type":"sometimes"},)"),
       "tool_choice.type"},
      {req(R"([{"role":"user","content":"x"}])", R"("temperature":1.5,)"), "temperature"},
      {req(R"([{"role":"user","content":"x"}])", R"("stop_sequences":["a","b","c","d","e"],)"),
       "stop_sequences"},
      {req(R"([{"role":"user","content":"x"}])", R"("metadata":"u",)"), "metadata"},
      {req(R"([{"role":"user","content":"x"}])", R"("stream":"yes",)"), "stream"},
      {req(R"([{"role":"user","content":"\ud800"}])"), "messages.0.content"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto p = parse(c.body);
    REQUIRE_FALSE(p.ok);
    CHECK(p.err.param == c.param);
    CHECK(p.err.code == Code::kInvalidArgument);
    CHECK_FALSE(p.err.message.empty());
    std::string body = error_body(p.err);
    CHECK(body.rfind(R"({"type":"error","error":{"type":"invalid_request_error","message":)", 0) ==
          0);
    CHECK(status_code(p.err) == 400);
  }
}

TEST_CASE("Anthropic error types and statuses", "[anthropic_request]") {
  auto check = [](Code code, int status, const char* type) {
    ApiError e{code, "m", {}, {}, 0};
    CHECK(status_code(e) == status);
    CHECK(std::string(error_type_name(e)) == type);
  };
  check(Code::kInvalidArgument, 400, "invalid_request_error");
  check(Code::kUnauthenticated, 401, "authentication_error");
  check(Code::kPermissionDenied, 403, "permission_error");
  check(Code::kNotFound, 404, "not_found_error");
  check(Code::kPayloadTooLarge, 413, "request_too_large");
  check(Code::kRateLimited, 429, "rate_limit_error");
  check(Code::kUnavailable, 529, "overloaded_error");
  check(Code::kUpstreamAuth, 529, "overloaded_error");
  check(Code::kInternal, 500, "api_error");
  check(Code::kUpstream, 502, "api_error");
  check(Code::kUpstreamTimeout, 504, "api_error");
  CHECK(error_body(ApiError{Code::kUnavailable, "no \"account\"", {}, {}, 0}) ==
        R"({"type":"error","error":{"type":"overloaded_error","message":"no \"account\""}})");
}

TEST_CASE("model mapping: longest claude prefix, else the default; Qwen names pass through",
          "[anthropic_request]") {
  AnthropicConfig cfg;
  CHECK(map_model(cfg, "claude-opus-5-5") == "qwen3-coder-plus");
  CHECK(map_model(cfg, "qwen3-max") == "qwen3-max");
  cfg.model_map = {{"claude", "qwen3-max"}, {"claude-haiku", "qwen-flash"}, {"claude-h", "x"}};
  CHECK(map_model(cfg, "claude-haiku-4-5") == "qwen-flash");
  CHECK(map_model(cfg, "claude-opus-5-5") == "qwen3-max");
  CHECK(map_model(cfg, "qwen3-vl-plus-thinking") == "qwen3-vl-plus-thinking");
}
