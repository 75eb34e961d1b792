// The Anthropic event renderer: the exact SSE event sequence for text,
// thinking, tool_use and errors, and the non-streaming message object.
#include <catch2/catch.hpp>

#include "frontend/anthropic/message_events.h"

using namespace qp;
using namespace qp::frontend;
using namespace qp::frontend::anthropic;

namespace {

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
protocol::JobChunk tool_call(int32_t index, std::string id, std::string name, std::string args) {
  protocol::JobChunk c;
  c.tool_calls.push_back({index, std::move(id), std::move(name), ""});
  c.tool_calls.push_back({index, "", "", std::move(args)});
  return c;
}
protocol::JobDone done(std::string finish, int64_t in = 0, int64_t out = 5) {
  protocol::JobDone d;
  d.finish_reason = std::move(finish);
  d.has_usage = in > 0;
  d.usage.prompt_tokens = in;
  d.usage.completion_tokens = out;
  return d;
}

std::string start(const char* model = "claude-x", int64_t input = 12) {
  return std::string(
             "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
             "\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"") +
         model +
         "\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_"
         "tokens\":" +
         std::to_string(input) +
         ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":0}}}"
         "\n\n"
         "event: ping\ndata: {\"type\":\"ping\"}\n\n";
}

}  // namespace

TEST_CASE("streaming text: message_start, ping, one text block, message_delta, message_stop",
          "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 12, false);
  std::string out;
  ev.append_start(&out);
  ev.append_chunk(&out, text("Hel"));
  ev.append_chunk(&out, text("lo \"q\""));
  ev.append_done(&out, done("stop"));
  CHECK(out ==
        start() +
            "event: content_block_start\ndata: "
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
            "\"text\":\"\"}}\n\n"
            "event: content_block_delta\ndata: "
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
            "\"text\":\"Hel\"}}\n\n"
            "event: content_block_delta\ndata: "
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
            "\"text\":\"lo \\\"q\\\"\"}}\n\n"
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            "event: message_delta\ndata: "
            "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_"
            "sequence\":null},\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":0,"
            "\"cache_read_input_tokens\":0,\"output_tokens\":5}}\n\n"
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

TEST_CASE("streaming thinking then text: thinking_delta, signature_delta, then a text block",
          "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 12, true);
  std::string out;
  ev.append_chunk(&out, reasoning("hm"));
  protocol::JobChunk both;  // reasoning ends and text starts in one chunk
  both.reasoning = "m.";
  both.content = "Hi";
  ev.append_chunk(&out, both);
  ev.append_done(&out, done("stop", 30, 7));
  CHECK(out ==
        "event: content_block_start\ndata: "
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\","
        "\"thinking\":\"\",\"signature\":\"\"}}\n\n"
        "event: content_block_delta\ndata: "
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
        "\"thinking\":\"hm\"}}\n\n"
        "event: content_block_delta\ndata: "
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
        "\"thinking\":\"m.\"}}\n\n"
        "event: content_block_delta\ndata: "
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\","
        "\"signature\":\"qwenproxy-unsigned\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: content_block_start\ndata: "
        "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\","
        "\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: "
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"Hi\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        "event: message_delta\ndata: "
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_"
        "sequence\":null},\"usage\":{\"input_tokens\":30,\"cache_creation_input_tokens\":0,"
        "\"cache_read_input_tokens\":0,\"output_tokens\":7}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

TEST_CASE("thinking not shown (disabled or display omitted): reasoning is dropped",
          "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 1, false);
  std::string out;
  ev.append_chunk(&out, reasoning("secret"));
  CHECK(out.empty());
  ev.add(reasoning("secret"));
  ev.add(text("ok"));
  CHECK(ev.message_json(done("stop")).find("secret") == std::string::npos);
}

TEST_CASE("streaming tool_use: input {} in content_block_start, input only as input_json_delta",
          "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 12, false);
  std::string out;
  ev.append_chunk(&out, text("Let me check."));
  ev.append_chunk(&out, tool_call(0, "call_a", "get_weather", R"({"city":"Paris"})"));
  ev.append_chunk(&out, tool_call(1, "call_b", "Read", R"({"p":1})"));
  ev.append_done(&out, done("tool_calls"));
  CHECK(out ==
        "event: content_block_start\ndata: "
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
        "\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: "
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"Let me check.\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: content_block_start\ndata: "
        "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
        "\"id\":\"call_a\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: "
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        "event: content_block_start\ndata: "
        "{\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\","
        "\"id\":\"call_b\",\"name\":\"Read\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: "
        "{\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"{\\\"p\\\":1}\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
        "event: message_delta\ndata: "
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_"
        "sequence\":null},\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":0,"
        "\"cache_read_input_tokens\":0,\"output_tokens\":5}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

TEST_CASE("a matched stop sequence: stop_reason stop_sequence and its value",
          "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 12, false);
  std::string out;
  auto d = done("stop");
  d.stop_sequence = "END";
  ev.append_done(&out, d);
  CHECK(out.find(R"("delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},"usage")") !=
        std::string::npos);
  ev.add(text("x"));
  CHECK(ev.message_json(d).find(R"("stop_reason":"stop_sequence","stop_sequence":"END",)") !=
        std::string::npos);
  d.finish_reason = "length";  // only a "stop" is a stop sequence's
  CHECK(ev.message_json(d).find(R"("stop_reason":"max_tokens","stop_sequence":null,)") !=
        std::string::npos);
}

TEST_CASE("stop reasons map to Anthropic's", "[anthropic_events]") {
  CHECK(std::string(stop_reason("stop")) == "end_turn");
  CHECK(std::string(stop_reason("")) == "end_turn");
  CHECK(std::string(stop_reason("length")) == "max_tokens");
  CHECK(std::string(stop_reason("tool_calls")) == "tool_use");
  CHECK(std::string(stop_reason("content_filter")) == "refusal");
}

TEST_CASE("an error mid-stream closes nothing and is one error event", "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 12, false);
  std::string out;
  ev.append_chunk(&out, text("partial"));
  out.clear();
  MessageEvents::append_error(&out, ApiError{Code::kUpstream, "upstream broke", {}, {}, 0});
  CHECK(out ==
        "event: error\ndata: "
        "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream broke\"}}"
        "\n\n");
  out.clear();
  MessageEvents::append_error(&out, ApiError{Code::kUnavailable, "no account", {}, {}, 0});
  CHECK(out.find("\"overloaded_error\"") != std::string::npos);
}

TEST_CASE("an empty answer: message_start, ping, message_delta, message_stop",
          "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 12, false);
  std::string out;
  ev.append_start(&out);
  ev.append_done(&out, done("length", 0, 0));
  CHECK(out.rfind(start(), 0) == 0);
  CHECK(out.find("content_block") == std::string::npos);
  CHECK(out.find("\"stop_reason\":\"max_tokens\"") != std::string::npos);
}

TEST_CASE("non-streaming: one message object with thinking, text and tool_use blocks",
          "[anthropic_events]") {
  MessageEvents ev("msg_1", "claude-x", 12, true);
  ev.add(reasoning("think"));
  ev.add(reasoning("ing"));
  ev.add(text("Let me "));
  ev.add(text("check."));
  ev.add(tool_call(0, "call_a", "get_weather", R"({"city":"Paris"})"));
  ev.add(tool_call(1, "call_b", "broken", R"({"city":)"));
  CHECK(
      ev.message_json(done("tool_calls", 40, 9)) ==
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[)"
      R"({"type":"thinking","thinking":"thinking","signature":"qwenproxy-unsigned"},)"
      R"({"type":"text","text":"Let me check."},)"
      R"({"type":"tool_use","id":"call_a","name":"get_weather","input":{"city":"Paris"}},)"
      R"({"type":"tool_use","id":"call_b","name":"broken","input":{}}],)"
      R"("stop_reason":"tool_use","stop_sequence":null,)"
      R"("usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}})");
}

TEST_CASE("non-streaming: blocks in order, tool deltas by index as the chat route takes them",
          "[anthropic_events]") {
  // The text and calls are conversation::AssistantMessage's: a call's
  // arguments may come in several deltas, text around calls keeps its
  // place, and a delta whose index is negative or leaves a gap is dropped.
  MessageEvents ev("msg_2", "claude-x", 1, false);
  ev.add(text("First."));
  protocol::JobChunk c;
  c.tool_calls = {{0, "call_a", "read", R"({"pa)"},
                  {-1, "call_neg", "x", "{}"},
                  {2, "call_gap", "y", "{}"},
                  {0, "", "", R"(th":"a"})"}};
  ev.add(c);
  ev.add(text("Then."));
  ev.add(tool_call(1, "call_b", "write", R"({"n":1})"));
  CHECK(
      ev.message_json(done("tool_calls", 2, 3)) ==
      R"({"id":"msg_2","type":"message","role":"assistant","model":"claude-x","content":[)"
      R"({"type":"text","text":"First."},)"
      R"({"type":"tool_use","id":"call_a","name":"read","input":{"path":"a"}},)"
      R"({"type":"text","text":"Then."},)"
      R"({"type":"tool_use","id":"call_b","name":"write","input":{"n":1}}],)"
      R"("stop_reason":"tool_use","stop_sequence":null,)"
      R"("usage":{"input_tokens":2,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3}})");
}
