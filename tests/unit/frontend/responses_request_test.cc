// The Responses API request parser: every shape Codex CLI sends
// (tests/testdata/responses/ holds a first turn with its 17 KB developer
// prompt and the next turn re-sending the whole history), the mapping onto
// the chat JobRequest, the conversation key of a re-sent turn, and typed 400s.
#include "frontend/responses/responses_request.h"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "common/conversation/history_key.h"
#include "tests/unit/common/assistant_reply.h"

using namespace qp;
using namespace qp::frontend;
using namespace qp::frontend::responses;

namespace {
struct Parsed {
  bool ok;
  ResponsesRequest req;
  ApiError err;
};
Parsed parse(std::string_view body) {
  static ResponsesRequestParser parser;  // reused, as in the server
  Parsed p;
  p.ok = parser.parse(body, &p.req, &p.err);
  if (p.ok) finish(&p.req, {});
  return p;
}
std::string fixture(const char* name) {
  std::ifstream f(std::string(QP_TESTDATA_DIR) + "/responses/" + name);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
std::string req(const std::string& input, const std::string& extra = "") {
  return R"({"model":"qwen3-max",)" + extra + R"("input":)" + input + "}";
}
void expect_400(const std::string& body, const std::string& param, const std::string& fragment) {
  Parsed p = parse(body);
  INFO(body);
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.code == Code::kInvalidArgument);
  CHECK(p.err.param == param);
  CHECK_THAT(p.err.message, Catch::Contains(fragment));
}
}  // namespace

TEST_CASE("responses: a string input is one user message; instructions are system text") {
  Parsed p = parse(req(R"("hello")", R"("instructions":"Be brief.","max_output_tokens":50,)"));
  REQUIRE(p.ok);
  const auto& m = p.req.job.messages;
  REQUIRE(m.size() == 2);
  CHECK(m[0].role == "system");
  CHECK(m[0].content == "Be brief.");
  CHECK(m[1].role == "user");
  CHECK(m[1].content == "hello");
  CHECK(p.req.job.max_tokens == 50);
  CHECK(p.req.store);
  CHECK(p.req.input_items == R"([{"type":"message","role":"user","content":"hello"}])");
}

TEST_CASE("responses: Codex's first turn (17 KB developer prompt, every tool kind, its fields)") {
  std::string body = fixture("codex_first.json");
  Parsed p = parse(body);
  REQUIRE(p.ok);
  auto& r = p.req;
  CHECK(r.job.model == "qwen3-coder-plus");
  CHECK(r.job.stream);
  CHECK_FALSE(r.store);
  CHECK(r.thinking);  // effort medium
  CHECK(r.reasoning_summary == "auto");
  CHECK(r.web_search);
  CHECK_FALSE(r.job.parallel_tool_calls);
  CHECK(r.job.tool_choice == "\"auto\"");
  REQUIRE(r.job.messages.size() == 3);
  CHECK(r.job.messages[0].role == "system");  // developer
  CHECK(r.job.messages[0].content.size() > 17'000);
  CHECK(r.job.messages[2].content == "CODEX-MARKER-1: list the files");
  // function tools and the namespace's function; custom ignored, web_search mapped.
  CHECK_THAT(r.job.tools, Catch::Contains(R"("name":"exec_command")"));
  CHECK_THAT(r.job.tools, Catch::Contains(R"("name":"update_plan")"));
  CHECK_THAT(r.job.tools, Catch::Contains(R"("name":"search_docs")"));
  CHECK_THAT(r.job.tools, !Catch::Contains("apply_patch"));
  CHECK(r.namespace_of("search_docs") == "mcp__docs__");
  CHECK(r.namespace_of("exec_command").empty());
  REQUIRE(r.ignored_tools.size() == 1);
  CHECK(r.ignored_tools[0] == "custom");
  // No assistant message yet: nothing to continue.
  CHECK(r.job.history.key.empty());
  CHECK_FALSE(r.job.history.system_hash.empty());
}

TEST_CASE("responses: Codex's re-sent history keys like the reply the worker indexed") {
  Parsed p = parse(fixture("codex_turn2.json"));
  REQUIRE(p.ok);
  const auto& m = p.req.job.messages;
  // developer, env context, question, assistant(text + call), tool output; reasoning dropped.
  REQUIRE(m.size() == 5);
  CHECK(m[3].role == "assistant");
  CHECK(m[3].content == "I'll list them.");
  CHECK_THAT(m[3].tool_calls, Catch::Contains(R"("name":"exec_command")"));
  CHECK(m[4].role == "tool");
  CHECK(m[4].tool_call_id == "call_A1");
  CHECK(p.req.job.history.new_from == 4);

  // The worker's key after turn 1: the state of turn 1's history extended
  // with its reply (content + the tool call, arguments spaced differently).
  Parsed first = parse(fixture("codex_first.json"));
  REQUIRE(first.ok);
  std::string after = qp::testing::reply_key(first.req.job.history.state, "I'll list them.",
                                             {{"call_x", "exec_command", R"({"cmd":"ls -la"})"}});
  CHECK(p.req.job.history.key == after);
}

TEST_CASE("responses: consecutive function calls join the assistant text before them") {
  Parsed p = parse(req(R"([
    {"role":"user","content":"q"},
    {"type":"reasoning","id":"rs_1","summary":[]},
    {"type":"message","role":"assistant","content":[{"type":"output_text","text":"a"}]},
    {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
    {"type":"function_call","call_id":"c2","name":"g","arguments":"{\"x\":1}","namespace":"ns"},
    {"type":"function_call_output","call_id":"c1","output":"one"},
    {"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"two"}]},
    {"type":"function_call","call_id":"c3","name":"f","arguments":"{}"},
    {"type":"function_call_output","call_id":"c3","output":"three"}])"));
  REQUIRE(p.ok);
  const auto& m = p.req.job.messages;
  REQUIRE(m.size() == 6);
  CHECK(m[1].role == "assistant");
  CHECK(m[1].content == "a");
  CHECK(m[1].tool_calls ==
        R"([{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},)"
        R"({"id":"c2","type":"function","function":{"name":"g","arguments":"{\"x\":1}"}}])");
  CHECK(m[3].content == "two");
  CHECK(m[4].role == "assistant");  // a call after a tool output: a new assistant message
  CHECK(m[4].content.empty());
  CHECK(m[5].content == "three");
  // The stored items are canonical: ids and reasoning gone, the namespace kept.
  CHECK_THAT(p.req.input_items, !Catch::Contains("rs_1"));
  CHECK_THAT(p.req.input_items, Catch::Contains(R"("namespace":"ns")"));
}

TEST_CASE("responses: items with and without ids key alike") {
  const char* with = R"([{"type":"message","id":"m1","role":"user","content":"q"},
    {"type":"message","id":"m2","role":"assistant","status":"completed","content":[{"type":"output_text","text":"a","annotations":[]}]},
    {"type":"message","id":"m3","role":"user","content":[{"type":"input_text","text":"next"}]}])";
  const char* without = R"([{"role":"user","content":"q"},{"role":"assistant","content":"a"},
    {"role":"user","content":"next"}])";
  Parsed a = parse(req(with)), b = parse(req(without));
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  CHECK_FALSE(a.req.job.history.key.empty());
  CHECK(a.req.job.history.key == b.req.job.history.key);
}

TEST_CASE("responses: stored history goes before the input; instructions are not carried over") {
  static ResponsesRequestParser parser;
  ResponsesRequest r;
  ApiError err;
  REQUIRE(parser.parse(req(R"([{"type":"function_call_output","call_id":"c1","output":"sunny"}])",
                           R"("previous_response_id":"resp_1","instructions":"New.",)"),
                       &r, &err));
  CHECK(r.previous_response_id == "resp_1");
  std::vector<protocol::ChatMessage> history;
  REQUIRE(parser.parse_items(
      R"([{"type":"message","role":"user","content":"q"},{"type":"message","role":"assistant","content":"Let me check."},{"type":"function_call","call_id":"c1","name":"w","arguments":"{}"}])",
      &history, &err));
  finish(&r, std::move(history));
  const auto& m = r.job.messages;
  REQUIRE(m.size() == 4);
  CHECK(m[0].content == "New.");
  CHECK(m[2].tool_calls.find("\"w\"") != std::string::npos);
  CHECK(m[3].role == "tool");
  CHECK(r.job.history.new_from == 3);
  CHECK(join_arrays({"[1,2]", "[]", "", "[3]"}) == "[1,2,3]");
}

TEST_CASE("responses: fields Codex and the SDK send are accepted") {
  Parsed p = parse(req(R"("x")", R"("store":false,"include":["reasoning.encrypted_content"],
    "prompt_cache_key":"k","client_metadata":{"a":"b"},"metadata":{"m":"1"},"user":"u",
    "truncation":"auto","service_tier":"auto","background":false,"top_logprobs":0,
    "reasoning":{"effort":"low","summary":"auto"},"text":{"format":{"type":"json_schema","name":"s",
    "schema":{"type":"object"},"strict":true},"verbosity":"low"},"temperature":0.2,"top_p":0.5,)"));
  REQUIRE(p.ok);
  CHECK_FALSE(p.req.store);
  CHECK(p.req.metadata == R"({"m":"1"})");
  CHECK(p.req.job.user == "u");
  CHECK(p.req.want_json);
  CHECK(
      p.req.job.response_format ==
      R"({"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"},"strict":true}})");
  // effort "low": thinking off, as reasoning_effort on chat completions.
  CHECK_FALSE(p.req.thinking);
  CHECK(p.req.job.features.thinking == 0);
  CHECK(p.req.job.temperature == 0.2);
  Parsed none = parse(req(
      R"("x")", R"("reasoning":{"effort":"minimal"},"text":{"format":{"type":"json_object"}},)"));
  REQUIRE(none.ok);
  CHECK_FALSE(none.req.thinking);
  CHECK(none.req.job.response_format == R"({"type":"json_object"})");
}

TEST_CASE("responses: tool_choice maps to the chat forms") {
  const std::string tools =
      R"("tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],)";
  Parsed p = parse(req(R"("x")", tools + R"("tool_choice":{"type":"function","name":"f"},)"));
  REQUIRE(p.ok);
  CHECK(p.req.job.tool_choice == R"({"type":"function","function":{"name":"f"}})");
  p = parse(req(R"("x")", tools + R"("tool_choice":"required",)"));
  REQUIRE(p.ok);
  CHECK(p.req.job.tool_choice == "\"required\"");
  p = parse(req(R"("x")", tools + R"("tool_choice":{"type":"web_search"},)"));
  REQUIRE(p.ok);
  CHECK(p.req.job.tool_choice == "\"auto\"");
  // A function tool without parameters gets an empty object schema.
  p = parse(req(R"("x")", R"("tools":[{"type":"function","name":"g"},{"type":"file_search"}],)"));
  REQUIRE(p.ok);
  CHECK_THAT(p.req.job.tools, Catch::Contains(R"("parameters":{"type":"object","properties":{}})"));
  CHECK(p.req.ignored_tools == std::vector<std::string>{"file_search"});
  // Only tools the gateway cannot offer: no tools for the worker.
  p = parse(req(R"("x")", R"("tools":[{"type":"web_search"},{"type":"custom","name":"c"}],)"));
  REQUIRE(p.ok);
  CHECK(p.req.job.tools.empty());
}

TEST_CASE("responses: bad input gets typed 400s") {
  expect_400(R"({"input":"x"})", "model", "Missing required parameter");
  expect_400(R"({"model":"qwen3-max"})", "input", "Missing required parameter");
  expect_400(R"({"model":"","input":"x"})", "model", "must not be empty");
  expect_400(req("7"), "input", "expected a string or an array");
  expect_400(req("[]"), "input", "no message");
  expect_400(req(R"([{"role":"robot","content":"x"}])"), "input[0].role", "'robot'");
  expect_400(req(R"([{"role":"user"}])"), "input[0].content", "Missing");
  expect_400(req(R"([{"type":"message","content":"x"}])"), "input[0].role", "Missing");
  expect_400(req(R"([{"content":"x"}])"), "input[0].type", "Missing");
  expect_400(req(R"([{"type":"bogus"}])"), "input[0].type", "'bogus'");
  expect_400(req(R"([{"role":"user","content":[{"type":"input_image","image_url":"u"}]}])"),
             "input[0].content[0]", "Invalid image URL");
  expect_400(req(R"([{"role":"user","content":[{"type":"input_text"}]}])"),
             "input[0].content[0].text", "Missing");
  expect_400(req(R"([{"type":"function_call","name":"f","arguments":"{}"}])"), "input[0].call_id",
             "Missing");
  expect_400(req(R"([{"type":"function_call_output","call_id":"c"}])"), "input[0].output",
             "Missing");
  expect_400(req(R"("x")", R"("tools":{},)"), "tools", "expected an array");
  expect_400(req(R"("x")", R"("tools":[{"name":"f"}],)"), "tools[0].type", "Missing");
  expect_400(req(R"("x")", R"("tools":[{"type":"function","name":"a b"}],)"), "tools[0].name",
             "1-64 characters");
  expect_400(
      req(R"("x")", R"("tools":[{"type":"function","name":"f"},{"type":"function","name":"f"}],)"),
      "tools[1].name", "Duplicate");
  expect_400(req(R"("x")", R"("tools":[{"type":"function","name":"f","parameters":3}],)"),
             "tools[0].parameters", "JSON Schema");
  expect_400(req(R"("x")", R"("tool_choice":"sometimes",)"), "tool_choice", "expected 'none'");
  expect_400(req(R"("x")", R"("tool_choice":"required",)"), "tool_choice", "needs a function");
  expect_400(req(R"("x")", R"("tool_choice":{"type":"function","name":"f"},)"), "tool_choice.name",
             "no function named 'f'");
  expect_400(req(R"("x")", R"("max_output_tokens":0,)"), "max_output_tokens", ">= 1");
  expect_400(req(R"("x")", R"("temperature":3,)"), "temperature", "between 0 and 2");
  expect_400(req(R"("x")", R"("reasoning":{"effort":"huge"},)"), "reasoning.effort", "'none'");
  expect_400(req(R"("x")", R"("text":{"format":{"type":"xml"}},)"), "text.format.type", "'text'");
  expect_400(req(R"("x")", R"("text":{"format":{"type":"json_schema","name":"s"}},)"),
             "text.format.schema", "Missing");
  expect_400(req(R"("x")", R"("store":"yes",)"), "store", "expected a boolean");
  expect_400(req(R"("x")", R"("metadata":[],)"), "metadata", "expected an object");
  expect_400(R"({"model":"m","input":"x"} trailing)", "", "could not parse the JSON body");
  expect_400("[]", "", "could not parse the JSON body");
}

TEST_CASE("responses: previous_response_id alone needs no input") {
  Parsed p = parse(R"({"model":"m","previous_response_id":"resp_1"})");
  REQUIRE(p.ok);
  CHECK(p.req.previous_response_id == "resp_1");
}
