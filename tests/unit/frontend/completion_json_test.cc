#include "frontend/openai/completion_json.h"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "frontend/models_cache.h"
#include "frontend/openai/api_error.h"
#include "frontend/openai/json_output.h"

using namespace qp;
using namespace qp::frontend;

TEST_CASE("stream events have OpenAI's exact shape", "[completion_json]") {
  CompletionJson j("chatcmpl-1", "qwen3-max", 1700000000);
  std::string s;
  j.append_role_event(&s);
  CHECK(s ==
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
        "\"model\":\"qwen3-max\",\"system_fingerprint\":\"fp_qwenproxy\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":"
        "null}]}\n\n");
  s.clear();
  j.append_delta_event(&s, "a\"b", "");
  CHECK(s.find("\"delta\":{\"content\":\"a\\\"b\"}") != std::string::npos);
  s.clear();
  j.append_delta_event(&s, "", "think");
  CHECK(s.find("\"delta\":{\"reasoning_content\":\"think\"}") != std::string::npos);
  s.clear();
  j.append_finish_event(&s, "length");
  CHECK(s.find("\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}]}\n\n") !=
        std::string::npos);
  s.clear();
  j.append_usage_event(&s, {3, 4, 7, 2});
  CHECK(s.find("\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_"
               "tokens\":7,\"completion_tokens_details\":{\"reasoning_tokens\":2}}}") !=
        std::string::npos);
}

TEST_CASE("non-stream completion object", "[completion_json]") {
  CompletionJson j("chatcmpl-1", "m", 5);
  std::string s = j.completion("hello", "", "stop", {1, 2, 3}, "chat-9");
  CHECK(
      s ==
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":5,\"model\":\"m\","
      "\"system_fingerprint\":\"fp_qwenproxy\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
      "\"assistant\",\"content\":\"hello\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
      "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,"
      "\"total_tokens\":3,\"completion_tokens_details\":{\"reasoning_tokens\":0}},"
      "\"qwen_chat_id\":\"chat-9\"}");
}

TEST_CASE("tool call deltas stream as ChatCompletionMessageToolCallChunk", "[completion_json]") {
  CompletionJson j("chatcmpl-1", "m", 5);
  std::string s;
  j.append_tool_call_event(&s, {0, "call_abc", "read_file", ""});
  CHECK(s ==
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":5,"
        "\"model\":\"m\",\"system_fingerprint\":\"fp_qwenproxy\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_abc\",\"type\":\"function\","
        "\"function\":{\"name\":\"read_file\",\"arguments\":\"\"}}]},\"logprobs\":null,"
        "\"finish_reason\":null}]}\n\n");
  s.clear();
  j.append_tool_call_event(&s, {1, "", "", R"({"path":"a\"b"})"});
  CHECK(s.find("\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":"
               "\"{\\\"path\\\":\\\"a\\\\\\\"b\\\"}\"}}]},\"logprobs\":null,\"finish_reason\":null}"
               "]}\n\n") != std::string::npos);
  s.clear();
  j.append_finish_event(&s, "tool_calls");
  CHECK(s.find("\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]}") !=
        std::string::npos);
}

TEST_CASE("non-stream completion with tool calls", "[completion_json]") {
  CompletionJson j("chatcmpl-1", "m", 5);
  std::vector<ToolCall> calls = {{"call_1", "read_file", R"({"path":"a"})"},
                                 {"call_2", "list_files", "{}"}};
  std::string s = j.completion("", "", "tool_calls", {1, 2, 3}, "", -1, calls);
  CHECK(s ==
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":5,\"model\":\"m\","
        "\"system_fingerprint\":\"fp_qwenproxy\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
        "\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
        "\"function\":{\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"a\\\"}\"}},"
        "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"list_files\","
        "\"arguments\":\"{}\"}}],\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
        "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,"
        "\"total_tokens\":3,\"completion_tokens_details\":{\"reasoning_tokens\":0}}}");
  // Text next to the calls stays a string; no calls keeps "" for empty content.
  CHECK(j.completion("Reading.", "", "tool_calls", {}, "", -1, calls)
            .find("\"content\":\"Reading.\",\"tool_calls\":[") != std::string::npos);
  CHECK(j.completion("", "", "stop", {}, "").find("\"content\":\"\",") != std::string::npos);
}

TEST_CASE("errors map to OpenAI status, type and code", "[api_error]") {
  CHECK(http_status(ApiError::invalid("n", "x")) == 400);
  CHECK(error_json(ApiError::invalid("n", "bad n")) ==
        R"({"error":{"message":"bad n","type":"invalid_request_error","param":"n","code":null}})");
  ApiError rl{Code::kRateLimited, "slow", {}, {}, 60};
  CHECK(http_status(rl) == 429);
  CHECK(
      error_json(rl) ==
      R"({"error":{"message":"slow","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}})");
  CHECK(http_status(ApiError{Code::kUnavailable, "", {}, {}, 0}) == 503);
  CHECK(http_status(ApiError{Code::kUpstream, "", {}, {}, 0}) == 502);
  CHECK(http_status(ApiError{Code::kUpstreamTimeout, "", {}, {}, 0}) == 504);
  CHECK(http_status(ApiError{Code::kUnauthenticated, "", {}, {}, 0}) == 401);
  CHECK(http_status(ApiError{Code::kPayloadTooLarge, "", {}, {}, 0}) == 413);
  CHECK(http_status(ApiError{Code::kNotFound, "", "model", "model_not_found", 0}) == 404);
}

TEST_CASE("models cache TTL and OpenAI list shape", "[models]") {
  ModelsCache c(1000);
  CHECK_FALSE(c.fresh(0));
  protocol::ModelList l;
  l.models = {{"qwen3-max", "Qwen3-Max", "qwen", 1732711466, 262144, 32768, {}}};
  c.store(l, 100);
  CHECK(c.fresh(1099));
  CHECK_FALSE(c.fresh(1100));
  CHECK(c.has());
  CHECK(c.find("qwen3-max") != nullptr);
  CHECK(c.find("gpt-4") == nullptr);
  CHECK(
      c.list_json() ==
      R"({"object":"list","data":[{"id":"qwen3-max","object":"model","created":1732711466,"owned_by":"qwen"}]})");
  // Capabilities from the upstream list show as the qwen_capabilities extension.
  l.models[0].capabilities = {"thinking", "search"};
  c.store(l, 100);
  CHECK(
      c.list_json() ==
      R"({"object":"list","data":[{"id":"qwen3-max","object":"model","created":1732711466,"owned_by":"qwen","qwen_capabilities":["thinking","search"]}]})");
}

TEST_CASE("JSON output checks and fence stripping", "[json_output]") {
  CHECK(parses_as_json(R"({"a":1})"));
  CHECK(parses_as_json("  [1,2]\n"));
  CHECK_FALSE(parses_as_json(R"({"a":1} trailing)"));
  CHECK_FALSE(parses_as_json("Sure! {\"a\":1}"));
  CHECK_FALSE(parses_as_json(""));
  CHECK(strip_code_fence("```json\n{\"a\":1}\n```") == "{\"a\":1}");
  CHECK(strip_code_fence("\n```\n[1]\n```\n") == "[1]");
  CHECK(strip_code_fence("{\"a\":1}") == "{\"a\":1}");
  CHECK(strip_code_fence("```") == "```");
}

TEST_CASE("the JSON validity extension field", "[completion_json]") {
  CompletionJson j("chatcmpl-1", "m", 5);
  CHECK(j.completion("{}", "", "stop", {}, "", 1).find(",\"qwen_json_valid\":true}") !=
        std::string::npos);
  CHECK(j.completion("x", "", "stop", {}, "", -1).find("qwen_json_valid") == std::string::npos);
  std::string s;
  j.append_finish_event(&s, "stop", 0);
  CHECK(s.find("}],\"qwen_json_valid\":false}\n\n") != std::string::npos);
}

TEST_CASE("errors of the HTTP layer map to OpenAI types", "[api_error]") {
  // 505 was labelled server_error: a bad HTTP version is the client's error.
  ApiError v = transport_error(505, "HTTP version not supported");
  CHECK(std::string(error_type(v)) == "invalid_request_error");
  CHECK(error_json(v).find(R"("code":"http_version_not_supported")") != std::string::npos);
  CHECK(std::string(error_type(transport_error(400, "bad"))) == "invalid_request_error");
  CHECK(std::string(error_type(transport_error(431, "big"))) == "invalid_request_error");
  CHECK(transport_error(413, "big").code == qp::Code::kPayloadTooLarge);
  CHECK(transport_error(503, "busy").code == qp::Code::kUnavailable);
  CHECK(std::string(error_type(transport_error(500, "oops"))) == "server_error");
}

TEST_CASE("search sources become url_citation annotations", "[completion_json][search]") {
  CompletionJson j("chatcmpl-1", "qwen3-max", 1700000000);
  std::vector<protocol::SearchSource> sources{{"https://a.example/x?q=1&r=\"2\"", "Été \"A\""},
                                              {"https://b.example/", ""}};
  const std::string want =
      "\"annotations\":[{\"type\":\"url_citation\",\"url_citation\":{\"start_index\":0,"
      "\"end_index\":5,\"url\":\"https://a.example/x?q=1&r=\\\"2\\\"\",\"title\":\"Été "
      "\\\"A\\\"\"}},{\"type\":\"url_citation\",\"url_citation\":{\"start_index\":0,"
      "\"end_index\":5,\"url\":\"https://b.example/\",\"title\":\"\"}}]";
  // Non-streaming: on the message; end_index counts code points ("héllo" = 5).
  std::string c = j.completion("héllo", "", "stop", {1, 2, 3}, "", -1, {}, sources);
  CHECK(c.find("\"refusal\":null," + want + "},\"logprobs\"") != std::string::npos);
  // Without sources: an empty array, as before.
  CHECK(j.completion("x", "", "stop", {1, 2, 3}, "").find("\"annotations\":[]") !=
        std::string::npos);
  // Streaming: on the final delta, with the streamed content's length.
  std::string s;
  j.append_finish_event(&s, "stop", -1, "chat-1", sources, 5);
  CHECK(s.find("\"delta\":{" + want + "},\"logprobs\":null,\"finish_reason\":\"stop\"}]") !=
        std::string::npos);
  s.clear();
  j.append_finish_event(&s, "stop", -1, "", {}, 5);
  CHECK(s.find("\"delta\":{},") != std::string::npos);
  CHECK(count_code_points("") == 0);
  CHECK(count_code_points("a\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80") == 4);
}

TEST_CASE("qwen_media on the message and on the final delta, with and without annotations",
          "[media]") {
  CompletionJson j("chatcmpl-1", "qwen3-max-image", 1);
  std::vector<protocol::MediaItem> media = {{"image", "https://cdn/a.png?x=\"1\"", "", ""}};
  std::vector<protocol::SearchSource> sources = {{"https://example.com", "E"}};
  for (bool with_sources : {false, true}) {
    const auto& src = with_sources ? sources : std::vector<protocol::SearchSource>{};
    std::string out;
    j.append_finish_event(&out, "stop", -1, {}, src, 5, media);
    REQUIRE(out.rfind("data: ", 0) == 0);
    simdjson::dom::parser p;
    simdjson::dom::element e;
    REQUIRE_FALSE(p.parse(out.substr(6, out.size() - 8)).get(e));
    auto delta = e["choices"].at(0)["delta"];
    CHECK(std::string_view(delta["qwen_media"].at(0)["type"]) == "image");
    CHECK(std::string_view(delta["qwen_media"].at(0)["url"]) == "https://cdn/a.png?x=\"1\"");
    CHECK(delta["annotations"].error() ==
          (with_sources ? simdjson::SUCCESS : simdjson::NO_SUCH_FIELD));

    std::string full = j.completion("![image](u)", "", "stop", {}, {}, -1, {}, src, media);
    simdjson::dom::parser p2;
    REQUIRE_FALSE(p2.parse(full).get(e));
    CHECK(std::string_view(e["choices"].at(0)["message"]["qwen_media"].at(0)["url"]) ==
          "https://cdn/a.png?x=\"1\"");
  }
  std::string plain;
  j.append_finish_event(&plain, "stop");
  CHECK(plain.find("qwen_media") == std::string::npos);
}
