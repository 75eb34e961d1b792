// Conversation keys (common/conversation): canonical JSON, the chained
// history digest, the worker's key of "history + reply", system and tools
// hashes. The frontend-side view (histories as clients rebuild them, parsed
// by ChatRequestParser) is in tests/unit/frontend/conversation_key_test.cc.
#include "common/conversation/history_key.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/conversation/canonical_json.h"
#include "tests/unit/common/assistant_reply.h"

using qp::conversation::canonical_json;
using qp::conversation::digest_history;
using qp::conversation::HistoryDigest;
using qp::conversation::key_after_reply;
using qp::conversation::tools_hash;
using qp::protocol::ChatMessage;
using qp::testing::msg;
using qp::testing::reply_key;
using qp::testing::tool;

namespace {

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string key_of(const std::vector<ChatMessage>& h) { return digest_history(h).key; }

const char* const kCalls =
    R"([{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}])";
// The same call as a reply (the worker's AssistantMessage).
const std::vector<qp::conversation::ToolCall> kReplyCalls = {
    {"call_abc", "get_weather", R"({"city":"Paris","unit":"c"})"}};

}  // namespace

// ---- canonical_json ---------------------------------------------------------

TEST_CASE("canonical_json sorts object keys and drops whitespace", "[conversation]") {
  CHECK(canonical_json(R"({"b":1,"a":2})") == std::optional<std::string>(R"({"a":2,"b":1})"));
  CHECK(canonical_json(" {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : { } } ") ==
        std::optional<std::string>(R"({"a":[1,2],"b":{}})"));
  CHECK(canonical_json(R"({"z":{"y":1,"x":2},"a":[{"d":0,"c":1}]})") ==
        std::optional<std::string>(R"({"a":[{"c":1,"d":0}],"z":{"x":2,"y":1}})"));
  // Bytewise order, not locale or length order.
  CHECK(canonical_json(R"({"b":0,"B":0,"aa":0,"a":0})") ==
        std::optional<std::string>(R"({"B":0,"a":0,"aa":0,"b":0})"));
  // Scalars at the root.
  CHECK(canonical_json(" true ") == std::optional<std::string>("true"));
  CHECK(canonical_json("null") == std::optional<std::string>("null"));
  CHECK(canonical_json(R"("x")") == std::optional<std::string>(R"("x")"));
}

TEST_CASE("canonical_json: the same value however it was escaped", "[conversation]") {
  auto plain = canonical_json(R"({"city":"Café/Zürich"})");
  REQUIRE(plain);
  CHECK(canonical_json(R"({"city":"Caf\u00e9\/Z\u00fcrich"})") == plain);
  CHECK(canonical_json(R"({"city":"Caf\u00E9/Z\u00FCrich"})") == plain);
  // Keys are compared after unescaping too.
  CHECK(canonical_json(R"({"\u0061":1,"b":2})") == std::optional<std::string>(R"({"a":1,"b":2})"));
  CHECK(canonical_json(R"({"b":2,"\u0061":1})") == canonical_json(R"({"a":1,"b":2})"));
  // Characters that must stay escaped survive a round trip.
  auto ctl = canonical_json(R"(["line\nbreak","tab\t","quote\"","back\\slash"])");
  REQUIRE(ctl);
  CHECK(canonical_json(*ctl) == ctl);
  CHECK(ctl->find('\n') == std::string::npos);
  // A surrogate pair and its UTF-8 bytes agree.
  CHECK(canonical_json(R"("\ud83d\ude00")") == canonical_json("\"\xF0\x9F\x98\x80\""));
  // Different text stays different.
  CHECK(canonical_json(R"({"city":"Cafe"})") != plain);
}

TEST_CASE("canonical_json: integral numbers are written as integers", "[conversation]") {
  const auto one = canonical_json(R"({"n":1})");
  REQUIRE(one == std::optional<std::string>(R"({"n":1})"));
  CHECK(canonical_json(R"({"n":1.0})") == one);
  CHECK(canonical_json(R"({"n":1e0})") == one);
  CHECK(canonical_json(R"({"n":10E-1})") == one);
  CHECK(canonical_json(R"({"n":-2.000})") == std::optional<std::string>(R"({"n":-2})"));
  CHECK(canonical_json(R"({"n":1.5})") == std::optional<std::string>(R"({"n":1.5})"));
  CHECK(canonical_json(R"({"n":0.1})") == std::optional<std::string>(R"({"n":0.1})"));
  CHECK(canonical_json(R"({"n":1.50})") == canonical_json(R"({"n":15e-1})"));
  CHECK(canonical_json(R"({"n":1})") != canonical_json(R"({"n":1.5})"));
  // Large integers keep every digit.
  CHECK(canonical_json("12345678901234567890") ==
        std::optional<std::string>("12345678901234567890"));
  CHECK(canonical_json("-9007199254740993") == std::optional<std::string>("-9007199254740993"));
  // A number and the string of that number are not the same value.
  CHECK(canonical_json(R"({"n":1})") != canonical_json(R"({"n":"1"})"));
}

TEST_CASE("canonical_json: nested arrays keep their order", "[conversation]") {
  CHECK(canonical_json(R"([[1,[2,{"b":1,"a":0}]],[],{}])") ==
        std::optional<std::string>(R"([[1,[2,{"a":0,"b":1}]],[],{}])"));
  CHECK(canonical_json("[1,2]") != canonical_json("[2,1]"));
  CHECK(canonical_json(R"([[1],[2]])") != canonical_json(R"([[1,2]])"));
  // Duplicate keys are kept, in their order.
  CHECK(canonical_json(R"({"a":1,"a":2})") != canonical_json(R"({"a":2,"a":1})"));
}

TEST_CASE("canonical_json: invalid JSON gives nullopt", "[conversation]") {
  for (const char* bad : {"", "   ", "{", "}", R"({"a":})", R"({"a" 1})", "[1,]", "[1 2]",
                          R"({'a':1})", "tru", "nul", R"("unterminated)", "01", "1.", R"({"a":1}})",
                          R"({"a":1} x)", "[1] [2]", "NaN", "\"\x01\""}) {
    INFO("input: " << bad);
    CHECK_FALSE(canonical_json(bad).has_value());
  }
}

TEST_CASE("canonical_json: deep nesting fails cleanly", "[conversation]") {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK_FALSE(canonical_json(deep).has_value());
  std::string ok(100, '[');
  ok += std::string(100, ']');
  CHECK(canonical_json(ok) == std::optional<std::string>(ok));
}

// ---- digest_history -----------------------------------------------------------

TEST_CASE("history key: none without an assistant message", "[conversation]") {
  HistoryDigest d = digest_history({msg("user", "hi")});
  CHECK(d.key.empty());
  CHECK(d.new_from == 0);
  CHECK(is_hex64(d.state));
  CHECK(d.system_hash.empty());

  d = digest_history({msg("system", "Be brief."), msg("user", "hi"), msg("user", "again")});
  CHECK(d.key.empty());
  CHECK(d.new_from == 0);
  CHECK(is_hex64(d.system_hash));

  d = digest_history({});
  CHECK(d.key.empty());
  CHECK(is_hex64(d.state));
}

TEST_CASE("history key: none when nothing but system messages follow the assistant",
          "[conversation]") {
  HistoryDigest d = digest_history({msg("user", "hi"), msg("assistant", "hello")});
  CHECK(d.key.empty());
  CHECK(d.new_from == 0);
  d = digest_history(
      {msg("user", "hi"), msg("assistant", "hello"), msg("system", "x"), msg("developer", "y")});
  CHECK(d.key.empty());
  CHECK(d.new_from == 0);
}

TEST_CASE("history key: new_from is the first message after the last assistant", "[conversation]") {
  HistoryDigest d =
      digest_history({msg("user", "hi"), msg("assistant", "hello"), msg("user", "q")});
  CHECK(is_hex64(d.key));
  CHECK(d.new_from == 2);

  d = digest_history({msg("system", "S"), msg("user", "a"), msg("assistant", "b"), msg("user", "c"),
                      msg("assistant", "", kCalls), tool("sunny", "call_abc"),
                      msg("user", "and tomorrow?")});
  CHECK(d.new_from == 5);
  CHECK(is_hex64(d.key));
  // A system message after the assistant: new_from still points right after it.
  d = digest_history(
      {msg("user", "a"), msg("assistant", "b"), msg("system", "S2"), msg("user", "c")});
  CHECK(d.new_from == 2);
  CHECK(is_hex64(d.key));
}

TEST_CASE("history key: the worker's key after its reply is the next request's key",
          "[conversation]") {
  SECTION("plain turns") {
    std::vector<ChatMessage> h = {msg("user", "hi")};
    for (int turn = 0; turn < 5; ++turn) {
      HistoryDigest req = digest_history(h);
      std::string answer = "answer " + std::to_string(turn);
      std::string worker_key = reply_key(req.state, answer);
      REQUIRE(is_hex64(worker_key));
      h.push_back(msg("assistant", answer));
      h.push_back(msg("user", "question " + std::to_string(turn)));
      HistoryDigest next = digest_history(h);
      CHECK(next.key == worker_key);
      CHECK(next.new_from == h.size() - 1);
      CHECK(next.key != req.key);
    }
  }
  SECTION("with system messages, which are not part of the key") {
    std::vector<ChatMessage> h = {msg("system", "Be brief."), msg("user", "hi")};
    std::string worker_key = reply_key(digest_history(h).state, "hello");
    h.push_back(msg("assistant", "hello"));
    h.push_back(msg("user", "more"));
    CHECK(key_of(h) == worker_key);
    h[0].content = "Be verbose.";
    CHECK(key_of(h) == worker_key);
  }
  SECTION("tool calls, sent back with other ids, key order and spacing") {
    std::vector<ChatMessage> h = {msg("user", "weather in Paris?")};
    std::string worker_key = reply_key(digest_history(h).state, "", kReplyCalls);
    REQUIRE(is_hex64(worker_key));
    const char* echoed =
        R"([ { "type" : "function", "function" : { "arguments" : "{ \"unit\" : \"c\", \"city\" : \"Paris\" }", "name" : "get_weather" }, "id" : "call_REGENERATED" } ])";
    ChatMessage a = msg("assistant", "", echoed);
    h.push_back(a);
    h.push_back(tool("sunny", "call_REGENERATED"));
    CHECK(key_of(h) == worker_key);
    CHECK(digest_history(h).new_from == 2);
  }
  SECTION("whitespace the client trimmed (or added)") {
    std::vector<ChatMessage> h = {msg("user", "hi")};
    std::string state = digest_history(h).state;
    std::string worker_key = reply_key(state, "\n\n  Hello there.  \n");
    h.push_back(msg("assistant", "Hello there."));
    h.push_back(msg("user", "next"));
    CHECK(key_of(h) == worker_key);
    CHECK(reply_key(state, "Hello there.") == worker_key);
    CHECK(reply_key(state, "\tHello there.\r\n") == worker_key);
  }
}

TEST_CASE("history key: fields clients drop or add do not count", "[conversation]") {
  std::vector<ChatMessage> base = {msg("user", "hi"), msg("assistant", "hello"),
                                   msg("user", "more")};
  const std::string k = key_of(base);
  REQUIRE(is_hex64(k));

  auto named = base;
  named[0].name = "bob";
  named[1].name = "assistant";
  CHECK(key_of(named) == k);

  // null, "" and missing content; "[]" and "null" tool calls are no calls.
  auto no_calls = base;
  no_calls[1].tool_calls = "[]";
  CHECK(key_of(no_calls) == k);
  no_calls[1].tool_calls = "null";
  CHECK(key_of(no_calls) == k);
  no_calls[1].tool_calls = "  [ ]  ";
  CHECK(key_of(no_calls) == k);

  // Content whitespace at both ends.
  auto spaced = base;
  spaced[0].content = "  hi\n";
  spaced[1].content = "\nhello ";
  CHECK(key_of(spaced) == k);

  // tool_call_id of a tool result.
  std::vector<ChatMessage> t1 = {msg("user", "w?"), msg("assistant", "", kCalls),
                                 tool("sunny", "call_abc"), msg("assistant", "It is sunny."),
                                 msg("user", "thanks")};
  auto t2 = t1;
  t2[2].tool_call_id = "call_other";
  CHECK(key_of(t1) == key_of(t2));

  // Arguments as an object instead of a string (some clients).
  auto t3 = t1;
  t3[1].tool_calls =
      R"([{"id":"x","type":"function","function":{"name":"get_weather","arguments":{"unit":"c","city":"Paris"}}}])";
  CHECK(key_of(t3) == key_of(t1));
  // 1 vs 1.0 in arguments.
  auto n1 = t1;
  n1[1].tool_calls =
      R"([{"id":"a","type":"function","function":{"name":"f","arguments":"{\"n\":1}"}}])";
  auto n2 = t1;
  n2[1].tool_calls =
      R"([{"id":"b","type":"function","function":{"name":"f","arguments":"{\"n\":1.0}"}}])";
  CHECK(key_of(n1) == key_of(n2));
}

TEST_CASE("history key: genuinely different histories differ", "[conversation]") {
  const std::vector<ChatMessage> base = {msg("user", "What is 2+2?"), msg("assistant", "4"),
                                         msg("user", "and 3+3?")};
  const std::string k = key_of(base);
  REQUIRE(is_hex64(k));

  auto edited = base;
  edited[0].content = "What is 2+3?";
  CHECK(key_of(edited) != k);

  auto edited_reply = base;
  edited_reply[1].content = "four";
  CHECK(key_of(edited_reply) != k);

  // Inner whitespace and case count; only the ends are trimmed.
  auto inner = base;
  inner[0].content = "What is  2+2?";
  CHECK(key_of(inner) != k);
  auto upper = base;
  upper[0].content = "WHAT IS 2+2?";
  CHECK(key_of(upper) != k);

  // Roles.
  std::vector<ChatMessage> role = {msg("tool", "What is 2+2?"), msg("assistant", "4"),
                                   msg("user", "and 3+3?")};
  CHECK(key_of(role) != k);
  std::vector<ChatMessage> sys_instead = {msg("system", "What is 2+2?"), msg("assistant", "4"),
                                          msg("user", "and 3+3?")};
  CHECK(key_of(sys_instead) != k);

  // Order.
  std::vector<ChatMessage> two_users = {msg("user", "a"), msg("user", "b"), msg("assistant", "c"),
                                        msg("user", "d")};
  std::vector<ChatMessage> swapped = {msg("user", "b"), msg("user", "a"), msg("assistant", "c"),
                                      msg("user", "d")};
  CHECK(key_of(two_users) != key_of(swapped));
  // One message split in two, or two merged into one.
  std::vector<ChatMessage> merged = {msg("user", "a\nb"), msg("assistant", "c"), msg("user", "d")};
  CHECK(key_of(two_users) != key_of(merged));
  // Text moved across a message boundary.
  std::vector<ChatMessage> moved = {msg("user", "ab"), msg("user", ""), msg("assistant", "c"),
                                    msg("user", "d")};
  std::vector<ChatMessage> moved2 = {msg("user", "a"), msg("user", "b"), msg("assistant", "c"),
                                     msg("user", "d")};
  CHECK(key_of(moved) != key_of(moved2));

  // An extra turn.
  auto longer = base;
  longer.push_back(msg("assistant", "6"));
  longer.push_back(msg("user", "and 4+4?"));
  CHECK(key_of(longer) != k);
  CHECK(is_hex64(key_of(longer)));
  // An extra turn in front.
  std::vector<ChatMessage> prefixed = {msg("user", "hi"), msg("assistant", "hello")};
  prefixed.insert(prefixed.end(), base.begin(), base.end());
  CHECK(key_of(prefixed) != k);

  // Tool calls: arguments, names, count, and calls vs no calls.
  std::vector<ChatMessage> t1 = {msg("user", "w?"), msg("assistant", "", kCalls),
                                 tool("sunny", "call_abc")};
  auto args = t1;
  args[1].tool_calls =
      R"([{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\",\"unit\":\"c\"}"}}])";
  CHECK(key_of(args) != key_of(t1));
  auto name = t1;
  name[1].tool_calls =
      R"([{"id":"call_abc","type":"function","function":{"name":"get_forecast","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}])";
  CHECK(key_of(name) != key_of(t1));
  auto twice = t1;
  twice[1].tool_calls =
      R"([{"id":"1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}},)"
      R"({"id":"2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}])";
  CHECK(key_of(twice) != key_of(t1));
  auto none = t1;
  none[1].tool_calls.clear();
  CHECK(key_of(none) != key_of(t1));
  // Tool-call text as content is not the same as a tool call.
  auto as_text = t1;
  as_text[1].tool_calls.clear();
  as_text[1].content = kCalls;
  CHECK(key_of(as_text) != key_of(t1));
  // A different tool result, once another assistant turn follows it.
  std::vector<ChatMessage> r1 = {msg("user", "w?"), msg("assistant", "", kCalls),
                                 tool("sunny", "call_abc"), msg("assistant", "ok"),
                                 msg("user", "thanks")};
  auto r2 = r1;
  r2[2].content = "rainy";
  CHECK(key_of(r1) != key_of(r2));
}

TEST_CASE("history key: the system prompt is hashed apart", "[conversation]") {
  std::vector<ChatMessage> h = {msg("system", "Be brief."), msg("user", "hi"),
                                msg("assistant", "hello"), msg("user", "more")};
  HistoryDigest a = digest_history(h);
  REQUIRE(is_hex64(a.system_hash));

  auto changed = h;
  changed[0].content = "Answer in French.";
  HistoryDigest b = digest_history(changed);
  CHECK(b.key == a.key);
  CHECK(b.new_from == a.new_from);
  CHECK(b.system_hash != a.system_hash);

  auto trimmed = h;
  trimmed[0].content = "  Be brief.\n";
  CHECK(digest_history(trimmed).system_hash == a.system_hash);

  auto dropped = h;
  dropped.erase(dropped.begin());
  HistoryDigest c = digest_history(dropped);
  CHECK(c.key == a.key);
  CHECK(c.system_hash.empty());
  CHECK(c.new_from == a.new_from - 1);

  // developer counts as system; two system messages are not one joined.
  std::vector<ChatMessage> dev = h;
  dev[0].role = "developer";
  CHECK(digest_history(dev).system_hash == a.system_hash);
  std::vector<ChatMessage> split = {msg("system", "Be"), msg("system", "brief."),
                                    msg("user", "hi")};
  std::vector<ChatMessage> joined = {msg("system", "Be brief."), msg("user", "hi")};
  CHECK(digest_history(split).system_hash != digest_history(joined).system_hash);
  // The system prompt's place in the history does not change the key either.
  std::vector<ChatMessage> late = {msg("user", "hi"), msg("assistant", "hello"),
                                   msg("system", "Be brief."), msg("user", "more")};
  CHECK(digest_history(late).key == a.key);
  CHECK(digest_history(late).system_hash == a.system_hash);
}

TEST_CASE("key_after_reply rejects a malformed state", "[conversation]") {
  std::string state = digest_history({msg("user", "hi")}).state;
  REQUIRE(is_hex64(state));
  CHECK(reply_key("", "x").empty());
  CHECK(reply_key(state.substr(1), "x").empty());
  CHECK(reply_key(state + "0", "x").empty());
  std::string bad = state;
  bad[10] = 'g';
  CHECK(reply_key(bad, "x").empty());
  // Different states and different replies give different keys.
  std::string other = digest_history({msg("user", "hello")}).state;
  CHECK(reply_key(state, "x") != reply_key(other, "x"));
  CHECK(reply_key(state, "x") != reply_key(state, "y"));
  CHECK(reply_key(state, "") != reply_key(state, "", kReplyCalls));
}

// ---- tools_hash -------------------------------------------------------------------

TEST_CASE("tools_hash is stable under reformatting", "[conversation]") {
  const std::string tools =
      R"([{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])";
  const std::string h = tools_hash(tools);
  REQUIRE(is_hex64(h));
  CHECK(tools_hash(R"(
    [ { "function" : { "parameters" : { "required" : [ "city" ],
          "properties" : { "city" : { "type" : "string" } }, "type" : "object" },
        "description" : "Weather in a city", "name" : "get_weather" },
      "type" : "function" } ]
  )") == h);
  CHECK(
      tools_hash(
          R"([{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])") ==
      h);
  // Changes that matter.
  CHECK(
      tools_hash(
          R"([{"type":"function","function":{"name":"get_weather","description":"Weather in a town","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])") !=
      h);
  CHECK(
      tools_hash(
          R"([{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}])") !=
      tools_hash(
          R"([{"type":"function","function":{"name":"b"}},{"type":"function","function":{"name":"a"}}])"));
  // Empty: no tools.
  CHECK(tools_hash("").empty());
  CHECK(tools_hash("  \n").empty());
  // Invalid JSON hashes as its trimmed text.
  CHECK(is_hex64(tools_hash("[not json")));
  CHECK(tools_hash("  [not json \n") == tools_hash("[not json"));
  CHECK(tools_hash("[not json") != tools_hash("[not json!"));
}

TEST_CASE("canonical_json: large integral doubles are written as integers too",
          "[conversation][regression]") {
  // Regression (found by this test, fixed): canonical_json.cc
  // append_number() writes integral doubles as integers only below 2^53;
  // 1e16 (how Python's json.dumps writes the float 1e16) becomes "1e+16",
  // while the same value written as an integer (JavaScript's
  // JSON.stringify(1e16)) stays "10000000000000000". The header says
  // numbers that are integers in value are written as integers.
  auto text = [](const char* json) { return canonical_json(json).value_or("(invalid)"); };
  CHECK(text("1e16") == "10000000000000000");
  CHECK(text("1.0e18") == "1000000000000000000");
  CHECK(text("-1e17") == "-100000000000000000");
}

TEST_CASE("an image is part of the key by its content hash", "[history]") {
  auto with_image = [](std::string digest) {
    ChatMessage m = msg("user", "what is this?");
    qp::protocol::Attachment a;
    a.kind = "image";
    a.digest = std::move(digest);
    m.attachments.push_back(std::move(a));
    return m;
  };
  std::vector<ChatMessage> plain = {msg("user", "what is this?"), msg("assistant", "a cat"),
                                    msg("user", "sure?")};
  std::vector<ChatMessage> img = {with_image("aaaa"), msg("assistant", "a cat"),
                                  msg("user", "sure?")};
  std::vector<ChatMessage> same = img;
  std::vector<ChatMessage> other = {with_image("bbbb"), msg("assistant", "a cat"),
                                    msg("user", "sure?")};
  HistoryDigest p = digest_history(plain), a = digest_history(img), b = digest_history(same),
                c = digest_history(other);
  CHECK(a.key == b.key);  // the same image again: the same conversation
  CHECK(a.key != p.key);  // with and without the image differ
  CHECK(a.key != c.key);  // another image differs
  // The worker's key after the first reply matches the next request's key.
  std::vector<ChatMessage> first = {with_image("aaaa")};
  HistoryDigest f = digest_history(first);
  CHECK(reply_key(f.state, "a cat") == a.key);
}
