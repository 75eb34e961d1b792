// Conversation keys end to end on the frontend side: raw request bodies, as
// the official openai SDKs rebuild them from our own responses, go through
// ChatRequestParser; the key it computes for the next request must equal the
// key the worker computes for "this request's history + my reply"
// (conversation::key_after_reply on JobRequest.history.state).
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/conversation/history_key.h"
#include "common/json/writer.h"
#include "frontend/openai/chat_request.h"
#include "frontend/openai/json_output.h"
#include "tests/unit/common/assistant_reply.h"

using qp::conversation::key_after_reply;
using qp::frontend::ApiError;
using qp::frontend::ChatRequest;
using qp::frontend::ChatRequestParser;
using qp::testing::reply_key;

namespace {

std::string q(std::string_view s) {
  std::string out;
  qp::json::append_quoted(&out, s);
  return out;
}

std::string body(const std::vector<std::string>& messages, const std::string& extra = {}) {
  std::string b = R"({"model":"qwen3-max","messages":[)";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i != 0) b += ',';
    b += messages[i];
  }
  b += ']';
  b += extra;
  b += '}';
  return b;
}

ChatRequest parse(const std::string& b) {
  static ChatRequestParser parser;
  ChatRequest req;
  ApiError err;
  bool ok = parser.parse(b, &req, &err);
  INFO("body: " << b << "\nerror: " << err.message);
  REQUIRE(ok);
  return req;
}

std::string user(std::string_view text) { return R"({"role":"user","content":)" + q(text) + "}"; }

// How the SDKs send our reply back, for a reply with text `a`.
struct Echo {
  const char* how;
  std::string (*json)(const std::string& a);
};

const Echo kEchoes[] = {
    {"plain dict",
     [](const std::string& a) { return R"({"role":"assistant","content":)" + q(a) + "}"; }},
    // Python: messages.append(completion.choices[0].message) (fields that were set).
    {"python message object",
     [](const std::string& a) {
       return R"({"role":"assistant","content":)" + q(a) + R"(,"refusal":null,"annotations":[]})";
     }},
    // Python: message.model_dump() (every field, pydantic order, extras last).
    {"python model_dump",
     [](const std::string& a) {
       return R"({"content":)" + q(a) +
              R"(,"refusal":null,"role":"assistant","annotations":[],"audio":null,)"
              R"("function_call":null,"tool_calls":null,"reasoning_content":"Let me think.\n"})";
     }},
    // Node: messages.push(completion.choices[0].message), reasoning model.
    {"node message with reasoning",
     [](const std::string& a) {
       return R"({"role":"assistant","content":)" + q(a) +
              R"(,"reasoning_content":"The user greets me.","refusal":null,"annotations":[]})";
     }},
    {"content parts",
     [](const std::string& a) {
       return R"({"role":"assistant","content":[{"type":"text","text":)" + q(a) + "}]}";
     }},
    {"content parts with a refusal part",
     [](const std::string& a) {
       return R"({"role":"assistant","content":[{"type":"text","text":)" + q(a) +
              R"(},{"type":"refusal","refusal":"I cannot."}]})";
     }},
    {"name added",
     [](const std::string& a) {
       return R"({"role":"assistant","name":"qwen","content":)" + q(a) + "}";
     }},
    {"empty tool_calls",
     [](const std::string& a) {
       return R"({"role":"assistant","content":)" + q(a) + R"(,"tool_calls":[]})";
     }},
    {"trimmed by the client",
     [](const std::string& a) {
       size_t b = a.find_first_not_of(" \n");
       size_t e = a.find_last_not_of(" \n");
       return R"({"role":"assistant","content":)" + q(a.substr(b, e - b + 1)) + "}";
     }},
    {"padded by the client",
     [](const std::string& a) {
       return R"({"role":"assistant","content":)" + q("\n" + a + "\n\n") + "}";
     }},
    {"non-ASCII escaped as \\u",
     [](const std::string& a) {
       // Escape every non-ASCII code point (2- and 3-byte UTF-8 suffice here).
       std::string out = R"({"role":"assistant","content":")";
       for (size_t i = 0; i < a.size(); ++i) {
         auto c = static_cast<unsigned char>(a[i]);
         unsigned cp = 0;
         if (c < 0x80) {
           if (c == '"' || c == '\\') out += '\\';
           if (c == '\n') {
             out += "\\n";
             continue;
           }
           out += static_cast<char>(c);
           continue;
         }
         if ((c & 0xE0) == 0xC0) {
           cp = (c & 0x1Fu) << 6 | (static_cast<unsigned char>(a[i + 1]) & 0x3Fu);
           i += 1;
         } else {
           cp = (c & 0x0Fu) << 12 | (static_cast<unsigned char>(a[i + 1]) & 0x3Fu) << 6 |
                (static_cast<unsigned char>(a[i + 2]) & 0x3Fu);
           i += 2;
         }
         char buf[8];
         std::snprintf(buf, sizeof buf, "\\u%04x", cp);
         out += buf;
       }
       return out + "\"}";
     }},
};

}  // namespace

TEST_CASE("conversation key: the worker's key is the key of the history the SDK sends next",
          "[conversation]") {
  const std::string answer = "  Bonjour ! Café ☕, \"quoted\" and a\nsecond line.\n";
  const std::vector<std::string> first = {R"({"role":"system","content":"Be brief."})",
                                          user("Bonjour")};
  ChatRequest r1 = parse(body(first));
  CHECK(r1.job.history.key.empty());
  const std::string worker_key = reply_key(r1.job.history.state, answer);
  REQUIRE(worker_key.size() == 64);

  for (const Echo& e : kEchoes) {
    INFO("reply sent back as: " << e.how);
    std::vector<std::string> next = first;
    next.push_back(e.json(answer));
    next.push_back(user("Et maintenant ?"));
    ChatRequest r2 = parse(body(next));
    CHECK(r2.job.history.key == worker_key);
    CHECK(r2.job.history.new_from == 3);
    CHECK(r2.job.history.system_hash == r1.job.history.system_hash);
  }
}

TEST_CASE("conversation key: 20 turns rebuilt as the SDK does", "[conversation]") {
  // The first user message as content parts, later ones as strings; the
  // replies sent back in turn through every echo style.
  std::vector<std::string> history = {
      R"({"role":"developer","content":"You are terse."})",
      R"({"role":"user","content":[{"type":"text","text":"Count with me."}]})"};
  std::string expected_key;  // what the worker reported after the previous turn
  for (int turn = 0; turn < 20; ++turn) {
    INFO("turn " << turn);
    ChatRequest r =
        parse(body(history, R"(,"stream":true,"stream_options":{"include_usage":true})"));
    CHECK(r.job.history.key == expected_key);
    if (turn > 0) CHECK(r.job.history.new_from == history.size() - 1);
    std::string answer = "Number " + std::to_string(turn) + ".";
    expected_key = reply_key(r.job.history.state, answer);
    REQUIRE(expected_key.size() == 64);
    const Echo& e = kEchoes[static_cast<size_t>(turn) % std::size(kEchoes)];
    history.push_back(e.json(answer));
    history.push_back(user("next " + std::to_string(turn)));
  }
}

TEST_CASE("conversation key: a user message as a string or as text parts", "[conversation]") {
  const std::string a = R"({"role":"assistant","content":"ok"})";
  std::string k1 = parse(body({user("hello"), a, user("more")})).job.history.key;
  std::string k2 = parse(body({R"({"role":"user","content":[{"type":"text","text":"hello"}]})", a,
                               user("more")}))
                       .job.history.key;
  CHECK(k1.size() == 64);
  CHECK(k1 == k2);
  // Several text parts are joined with "\n".
  std::string k3 =
      parse(
          body(
              {R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]})",
               a, user("more")}))
          .job.history.key;
  std::string k4 = parse(body({user("a\nb"), a, user("more")})).job.history.key;
  CHECK(k3 == k4);
  CHECK(k3 != k1);
}

TEST_CASE("conversation key: tool calls sent back with other ids, order and spacing",
          "[conversation]") {
  const std::string tools =
      R"(,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])";
  const std::string tools_reformatted =
      R"(, "tools" : [ { "function" : { "parameters" : { "properties" : { "city" : { "type" : "string" } }, "type" : "object" }, "name" : "get_weather" }, "type" : "function" } ])";
  ChatRequest r1 = parse(body({user("Weather in Paris?")}, tools));
  REQUIRE(r1.job.history.tools_hash.size() == 64);
  // The tool calls the gateway would have returned.
  const std::string worker_key = reply_key(
      r1.job.history.state, "", {{"call_0001", "get_weather", R"({"city":"Paris","days":1})"}});

  const char* echoes[] = {
      // Python SDK message object: content null, ids kept.
      R"({"role":"assistant","content":null,"refusal":null,"annotations":[],"tool_calls":[{"id":"call_0001","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":1}"}}]})",
      // A client that regenerates ids, re-serialises the arguments (spacing,
      // key order, 1.0) and sends content "".
      R"({"role":"assistant","content":"","tool_calls":[{"function":{"arguments":"{\"days\": 1.0, \"city\": \"Paris\"}","name":"get_weather"},"type":"function","id":"call_zzz"}]})",
      // Missing content altogether.
      R"({"role":"assistant","tool_calls":[ {"id":"x","type":"function","function":{"name":"get_weather","arguments":"{ \"city\" : \"Paris\" , \"days\" : 1 }"}} ]})",
  };
  for (const char* echo : echoes) {
    INFO("echo: " << echo);
    ChatRequest r2 =
        parse(body({user("Weather in Paris?"), echo,
                    R"({"role":"tool","tool_call_id":"call_other","content":"18 C, sunny"})"},
                   tools_reformatted));
    CHECK(r2.job.history.key == worker_key);
    CHECK(r2.job.history.new_from == 2);
    CHECK(r2.job.history.tools_hash == r1.job.history.tools_hash);
  }
  // Other arguments: another conversation.
  ChatRequest other = parse(body(
      {user("Weather in Paris?"),
       R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_0001","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":2}"}}]})",
       R"({"role":"tool","tool_call_id":"call_0001","content":"18 C"})"},
      tools));
  CHECK(other.job.history.key != worker_key);
}

TEST_CASE("conversation key: edited or forked histories get other keys", "[conversation]") {
  const std::string a1 = R"({"role":"assistant","content":"Paris."})";
  const std::string base_key =
      parse(body({user("Capital of France?"), a1, user("And of Italy?")})).job.history.key;
  REQUIRE(base_key.size() == 64);
  // Edited earlier user message.
  CHECK(parse(body({user("Capital of Spain?"), a1, user("And of Italy?")})).job.history.key !=
        base_key);
  // Edited assistant message.
  CHECK(parse(body({user("Capital of France?"), R"({"role":"assistant","content":"Lyon."})",
                    user("And of Italy?")}))
            .job.history.key != base_key);
  // The new user message is not part of the key.
  CHECK(parse(body({user("Capital of France?"), a1, user("And of Spain?")})).job.history.key ==
        base_key);
  // An extra earlier turn.
  CHECK(parse(body({user("hi"), R"({"role":"assistant","content":"hello"})",
                    user("Capital of France?"), a1, user("And of Italy?")}))
            .job.history.key != base_key);
}

TEST_CASE("conversation key: a changed system prompt keeps the key, not the system hash",
          "[conversation]") {
  const std::vector<std::string> rest = {user("hi"), R"({"role":"assistant","content":"hello"})",
                                         user("more")};
  auto with_system = [&](const std::string& system_msg) {
    std::vector<std::string> m = {system_msg};
    m.insert(m.end(), rest.begin(), rest.end());
    return parse(body(m)).job.history;
  };
  auto h1 = with_system(R"({"role":"system","content":"Be brief."})");
  auto h2 = with_system(R"({"role":"system","content":"Answer in French."})");
  auto h3 = with_system(R"({"role":"developer","content":[{"type":"text","text":" Be brief. "}]})");
  auto none = parse(body(rest)).job.history;
  CHECK(h1.key.size() == 64);
  CHECK(h1.key == h2.key);
  CHECK(h1.key == none.key);
  CHECK(h1.system_hash != h2.system_hash);
  CHECK(h1.system_hash == h3.system_hash);
  CHECK(none.system_hash.empty());
  CHECK(h1.new_from == 3);
  CHECK(none.new_from == 2);
}

TEST_CASE("conversation key: a JSON answer returned without its code fence still continues",
          "[conversation][regression]") {
  // Regression (found by this test, fixed): for a non-streamed
  // request with response_format json_object/json_schema, frontend/chat_call.cc
  // (ChatCall::on_done) returns a fenced JSON answer without its Markdown
  // fence, but the worker's session key (worker/qwen_client.cc,
  // ChatCall::finish: key_after_reply(state, answer_)) hashes the fenced
  // text. The client sends the unfenced text back, so the key never matches:
  // every later turn of such a conversation replays instead of continuing.
  const std::string fenced = "```json\n{\"city\": \"Paris\"}\n```";
  const std::string returned(qp::frontend::strip_code_fence(fenced));
  REQUIRE(returned == "{\"city\": \"Paris\"}");
  const std::string rf = R"(,"response_format":{"type":"json_object"})";
  ChatRequest r1 = parse(body({user("City of the Louvre, as JSON")}, rf));
  // The worker hashes what the client gets: ChatCall::finish() applies the
  // same json::returned_json_answer() that ChatCall::on_done() returns.
  const std::string worker_key =
      reply_key(r1.job.history.state, qp::json::returned_json_answer(fenced));
  CHECK(worker_key != reply_key(r1.job.history.state, fenced));
  ChatRequest r2 = parse(
      body({user("City of the Louvre, as JSON"),
            R"({"role":"assistant","content":)" + q(returned) + "}", user("And of the Prado?")},
           rf));
  CHECK(r2.job.history.key == worker_key);
}
