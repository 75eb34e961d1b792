// The Responses API renderer: the exact event sequence for text, reasoning,
// function calls, an incomplete and a failed response, and the Response
// object and stored items of a non-streamed one.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include "frontend/responses/response_events.h"

using namespace qp;
using namespace qp::frontend;
using namespace qp::frontend::responses;

namespace {
ResponseEcho echo(bool thinking = false) {
  ResponseEcho e;
  e.id = "resp_abc";
  e.model = "qwen3-max";
  e.created_at = 1700000000;
  e.thinking = thinking;
  e.input_tokens = 7;
  e.namespaces = {{"search_docs", "mcp__docs__"}};
  return e;
}
protocol::JobChunk text(std::string s) {
  protocol::JobChunk c;
  c.content = std::move(s);
  return c;
}
protocol::JobChunk reasoning(std::string s) {
  protocol::JobChunk c;
  c.reasoning = std::move(s);
  return c;
}
protocol::JobChunk call(int32_t index, std::string id, std::string name, std::string args) {
  protocol::JobChunk c;
  c.tool_calls.push_back({index, std::move(id), std::move(name), std::move(args)});
  return c;
}
protocol::JobDone done(const char* reason = "stop") {
  protocol::JobDone d;
  d.finish_reason = reason;
  d.has_usage = true;
  d.usage = {12, 5, 17};
  return d;
}
// The `type`s of the SSE events in `out`, checking each block's shape, its
// sequence number and that its data is JSON.
std::vector<std::string> types(const std::string& out) {
  std::vector<std::string> t;
  size_t pos = 0;
  simdjson::dom::parser parser;
  while (pos < out.size()) {
    size_t end = out.find("\n\n", pos);
    REQUIRE(end != std::string::npos);
    std::string block = out.substr(pos, end - pos);
    pos = end + 2;
    REQUIRE(block.rfind("event: ", 0) == 0);
    size_t nl = block.find('\n');
    std::string type = block.substr(7, nl - 7);
    REQUIRE(block.substr(nl + 1, 6) == "data: ");
    simdjson::dom::element doc;
    std::string data = block.substr(nl + 7);
    INFO(data);
    REQUIRE(parser.parse(data).get(doc) == simdjson::SUCCESS);
    CHECK(std::string(doc["type"].get_string().value()) == type);
    CHECK(doc["sequence_number"].get_int64().value() == static_cast<int64_t>(t.size()));
    t.push_back(type);
  }
  return t;
}
using V = std::vector<std::string>;
}  // namespace

TEST_CASE("response events: text") {
  ResponseEvents ev(echo());
  std::string out;
  ev.append_start(&out);
  ev.append_chunk(&out, text("Hel"));
  ev.append_chunk(&out, text("lo"));
  ev.append_done(&out, done());
  CHECK(types(out) == V{"response.created", "response.in_progress", "response.output_item.added",
                        "response.content_part.added", "response.output_text.delta",
                        "response.output_text.delta", "response.output_text.done",
                        "response.content_part.done", "response.output_item.done",
                        "response.completed"});
  CHECK_THAT(
      out,
      Catch::Contains(
          R"("type":"response.output_text.done","sequence_number":6,"item_id":"msg_abc_0","output_index":0,"content_index":0,"text":"Hello")"));
  CHECK_THAT(
      out,
      Catch::Contains(
          R"("usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":0,"cache_write_tokens":0},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":17})"));
  CHECK_THAT(out, Catch::Contains(R"("status":"completed")"));
}

TEST_CASE("response events: reasoning, then text, then two function calls") {
  ResponseEvents ev(echo(true));
  std::string out;
  ev.append_start(&out);
  ev.append_chunk(&out, reasoning("think"));
  ev.append_chunk(&out, text("ok"));
  ev.append_chunk(&out, call(0, "call_1", "exec_command", "{\"cmd\":"));
  ev.append_chunk(&out, call(0, "", "", "\"ls\"}"));
  ev.append_chunk(&out, call(1, "call_2", "search_docs", "{}"));
  protocol::JobDone d = done("tool_calls");
  d.usage.reasoning_tokens = 3;  // of the 5 output tokens
  ev.append_done(&out, d);
  CHECK_THAT(
      out, Catch::Contains(R"("output_tokens":5,"output_tokens_details":{"reasoning_tokens":3})"));
  CHECK(types(out) == V{"response.created",
                        "response.in_progress",
                        "response.output_item.added",
                        "response.reasoning_summary_part.added",
                        "response.reasoning_summary_text.delta",
                        "response.reasoning_summary_text.done",
                        "response.reasoning_summary_part.done",
                        "response.output_item.done",
                        "response.output_item.added",
                        "response.content_part.added",
                        "response.output_text.delta",
                        "response.output_text.done",
                        "response.content_part.done",
                        "response.output_item.done",
                        "response.output_item.added",
                        "response.function_call_arguments.delta",
                        "response.function_call_arguments.delta",
                        "response.function_call_arguments.done",
                        "response.output_item.done",
                        "response.output_item.added",
                        "response.function_call_arguments.delta",
                        "response.function_call_arguments.done",
                        "response.output_item.done",
                        "response.completed"});
  CHECK_THAT(
      out,
      Catch::Contains(
          R"("item":{"id":"rs_abc_0","type":"reasoning","summary":[{"type":"summary_text","text":"think"}],"status":"completed"})"));
  CHECK_THAT(
      out,
      Catch::Contains(
          R"("type":"response.function_call_arguments.done","sequence_number":17,"item_id":"fc_abc_2","output_index":2,"name":"exec_command","arguments":"{\"cmd\":\"ls\"}")"));
  CHECK_THAT(
      out,
      Catch::Contains(
          R"("call_id":"call_2","name":"search_docs","arguments":"{}","namespace":"mcp__docs__"})"));
  // The stored conversation: the message and the calls, no reasoning.
  CHECK(
      ev.output_items() ==
      R"([{"type":"message","role":"assistant","content":"ok"},)"
      R"({"type":"function_call","call_id":"call_1","name":"exec_command","arguments":"{\"cmd\":\"ls\"}"},)"
      R"({"type":"function_call","call_id":"call_2","name":"search_docs","arguments":"{}","namespace":"mcp__docs__"}])");
}

TEST_CASE("response events: reasoning is dropped when thinking was not asked for") {
  ResponseEvents ev(echo(false));
  std::string out;
  ev.append_start(&out);
  ev.append_chunk(&out, reasoning("hidden"));
  ev.append_done(&out, done());
  CHECK(types(out) == V{"response.created", "response.in_progress", "response.completed"});
  CHECK_THAT(out, !Catch::Contains("hidden"));
}

TEST_CASE("response events: max tokens ends incomplete") {
  ResponseEvents ev(echo());
  std::string out;
  ev.append_start(&out);
  ev.append_chunk(&out, text("cut"));
  ev.append_done(&out, done("length"));
  CHECK(types(out).back() == "response.incomplete");
  CHECK_THAT(out, Catch::Contains(R"("status":"incomplete")"));
  CHECK_THAT(out, Catch::Contains(R"("incomplete_details":{"reason":"max_output_tokens"})"));
}

TEST_CASE("response events: a failure after the start: error, then response.failed") {
  ResponseEvents ev(echo());
  std::string out;
  ev.append_start(&out);
  ev.append_chunk(&out, text("partial"));
  ev.append_failed(&out, ApiError{Code::kUpstream, "upstream broke", {}, "upstream_error", 0});
  CHECK(types(out) == V{"response.created", "response.in_progress", "response.output_item.added",
                        "response.content_part.added", "response.output_text.delta",
                        "response.output_text.done", "response.content_part.done",
                        "response.output_item.done", "error", "response.failed"});
  CHECK_THAT(
      out,
      Catch::Contains(
          R"("type":"error","sequence_number":8,"code":"upstream_error","message":"upstream broke","param":null})"));
  CHECK_THAT(out, Catch::Contains(R"("status":"failed")"));
  CHECK_THAT(out, Catch::Contains(R"("error":{"code":"server_error","message":"upstream broke"})"));
}

TEST_CASE("response events: the non-streamed Response echoes the request") {
  ResponseEcho e = echo();
  e.instructions = "Be brief.";
  e.max_output_tokens = 100;
  e.previous_response_id = "resp_prev";
  e.metadata = R"({"k":"v"})";
  e.store = false;
  e.tools = R"([{"type":"function","name":"f","description":"","parameters":{},"strict":false}])";
  e.tool_choice = "\"required\"";
  ResponseEvents ev(std::move(e));
  ev.add(text("Hello"));
  ev.add(call(0, "call_1", "f", "{}"));
  ev.set_completed_at(1700000005);
  protocol::JobDone d = done("tool_calls");
  d.has_usage = false;  // no upstream count: the estimate
  std::string json = ev.response_json(d);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  CHECK(std::string(doc["id"].get_string().value()) == "resp_abc");
  CHECK(std::string(doc["status"].get_string().value()) == "completed");
  CHECK(doc["completed_at"].get_int64().value() == 1700000005);
  CHECK(std::string(doc["instructions"].get_string().value()) == "Be brief.");
  CHECK(doc["max_output_tokens"].get_int64().value() == 100);
  CHECK(std::string(doc["previous_response_id"].get_string().value()) == "resp_prev");
  CHECK(std::string(doc["metadata"]["k"].get_string().value()) == "v");
  CHECK_FALSE(doc["store"].get_bool().value());
  CHECK(std::string(doc["tool_choice"].get_string().value()) == "required");
  CHECK(doc["output"].get_array().size() == 2);
  CHECK(doc["usage"]["input_tokens"].get_int64().value() == 7);
  CHECK(doc["error"].is_null());
  CHECK(doc["incomplete_details"].is_null());
}

TEST_CASE("responses: a non-streamed JSON answer is returned without its code fence",
          "[responses]") {
  // As on the chat route, and as the worker keys the reply
  // (conversation::AssistantMessage): else a client sending the answer back
  // would never continue the conversation.
  const std::string fenced = "```json\n{\"city\": \"Paris\"}\n```";
  for (bool unfenced : {true, false}) {
    ResponseEcho e = echo();
    e.unfenced_json = unfenced;
    ResponseEvents ev(e);
    ev.add(text(fenced.substr(0, 10)));
    ev.add(text(fenced.substr(10)));
    ev.end_answer();
    std::string body = ev.response_json(done());
    std::string items = ev.output_items();
    INFO(body);
    if (unfenced) {
      CHECK(body.find(R"("text":"{\"city\": \"Paris\"}")") != std::string::npos);
      CHECK(body.find("```") == std::string::npos);
      CHECK(items.find("```") == std::string::npos);
    } else {
      CHECK(body.find(R"("text":"```json\n{\"city\": \"Paris\"}\n```")") != std::string::npos);
    }
  }
  // Prose in a fence is not JSON: unchanged.
  ResponseEcho e = echo();
  e.unfenced_json = true;
  ResponseEvents ev(e);
  ev.add(text("```\nno json\n```"));
  ev.end_answer();
  CHECK(ev.response_json(done()).find(R"("text":"```\nno json\n```")") != std::string::npos);
}
