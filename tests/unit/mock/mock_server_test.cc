// In-process tests of the whole mock over real HTTP on 127.0.0.1:0.
#include "tools/mock-qwen/mock_server.h"

#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "common/media/oss_signature.h"
#include "tests/unit/mock/sse_test_util.h"
#include "tests/unit/mock/test_http.h"
#include "tools/mock-qwen/auth.h"
#include "tools/mock-qwen/jwt.h"
#include "tools/mock-qwen/oss_store.h"

using namespace qp::mock;        // NOLINT(google-build-using-namespace): test brevity
using namespace qp::mock::test;  // NOLINT(google-build-using-namespace): test brevity

namespace {

const std::string kSecret = "mock-secret";

std::string token_for(const std::string& user, int64_t ttl_s = 3600) {
  return mint_jwt(kSecret, user, static_cast<int64_t>(std::time(nullptr)) + ttl_s);
}

HeaderList auth_headers(const std::string& token) {
  return {{"Authorization", "Bearer " + token},
          {"Content-Type", "application/json; charset=UTF-8"},
          {"User-Agent", "qp-test/1.0"},
          {"x-request-id", "req-123"},
          {"bx-umidtoken", "T2gAsecretumid"}};
}

std::string json_string(const std::string& json, const std::string& pointer) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(json).get(doc)) return "<invalid json>";
  std::string_view s;
  if (doc.at_pointer(pointer).get(s)) return "<missing>";
  return std::string(s);
}

int64_t json_int(const std::string& json, const char* pointer) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(json).get(doc)) return -999;
  int64_t v = 0;
  if (doc.at_pointer(pointer).get(v)) return -998;
  return v;
}

bool json_bool(const std::string& json, const char* pointer) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  bool v = false;
  if (p.parse(json).get(doc) || doc.at_pointer(pointer).get(v)) return false;
  return v;
}

std::string new_chat(int port, const std::string& token, const std::string& model = "qwen3-max") {
  Response r = http(port, "POST", "/api/v2/chats/new", auth_headers(token),
                    R"({"title":"New Chat","models":[")" + model +
                        R"("],"chat_mode":"normal","chat_type":"t2t","timestamp":1761484022218})");
  REQUIRE(r.status == 200);
  REQUIRE(json_bool(r.body, "/success"));
  return json_string(r.body, "/data/id");
}

std::string completion_body(const std::string& chat_id, const std::string& content,
                            const std::string& parent = "null", const std::string& extra = "",
                            const std::string& feature = "") {
  return R"({"stream":true,"version":"2.1","incremental_output":true,"chat_id":")" + chat_id +
         R"(","chat_mode":"normal","model":"qwen3-max","parent_id":)" + parent +
         R"(,"messages":[{"role":"user","content":")" + content +
         R"(","user_action":"chat","files":[],"chat_type":"t2t","feature_config":{"output_schema":"phase")" +
         feature + R"(}}])" + extra + "}";
}

Response complete(int port, const std::string& token, const std::string& chat_id,
                  const std::string& body) {
  return http(port, "POST", "/api/v2/chat/completions?chat_id=" + chat_id, auth_headers(token),
              body);
}

std::string state(int port) { return http(port, "GET", "/__mock/state").body; }

void config(int port, const std::string& json) {
  Response r = http(port, "POST", "/__mock/config", {}, json);
  REQUIRE(r.status == 200);
}

// Waits (with a deadline) until the state JSON satisfies pred.
template <typename Pred>
bool wait_state(int port, Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(state(port))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

TEST_CASE("models are served on both paths", "[mock_server]") {
  MockHarness mock;
  for (const char* path : {"/api/models", "/api/v2/models/"}) {
    Response r = http(mock.port(), "GET", path);
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(json_string(r.body, "/data/0/id") == "qwen3-max");
  }
  CHECK(http(mock.port(), "POST", "/api/models").status == 405);
  CHECK(http(mock.port(), "GET", "/api/nope").status == 404);
}

TEST_CASE("sign in, create a chat and stream an echo", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  Response login =
      http(port, "POST", "/api/v1/auths/signin", {{"Content-Type", "application/json"}},
           R"({"email":"test1@example.com","password":")" + sha256_hex("password1") + "\"}");
  REQUIRE(login.status == 200);
  std::string token = json_string(login.body, "/token");
  CHECK(verify_jwt(kSecret, token, std::time(nullptr)).has_value());
  CHECK(json_string(login.body, "/id") == "00000000-0000-4000-8000-000000000001");
  CHECK(http(port, "POST", "/api/v1/auths/signin", {{"Content-Type", "application/json"}},
             R"({"email":"test1@example.com","password":"wrong"})")
            .status == 400);

  std::string chat = new_chat(port, token);
  Response r = complete(port, token, chat, completion_body(chat, "hello there, mock"));
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").rfind("text/event-stream", 0) == 0);
  CHECK(r.header("transfer-encoding") == "chunked");
  Reassembled a = reassemble(r.body);
  CHECK_FALSE(a.parse_error);
  CHECK(a.answer == "You said: hello there, mock");
  CHECK(a.created_chat_id == chat);
  CHECK(a.finished_events == 1);
  CHECK(a.done_lines == 0);
  CHECK(a.last_input_tokens == 4);  // "hello", " there", ",", " mock"
  CHECK(r.body.rfind("data: {\"response.created\":", 0) == 0);

  std::string st = state(port);
  CHECK(json_int(st, "/completions_finished") == 1);
  CHECK(json_int(st, "/chats_created") == 1);
  CHECK(json_string(st, "/records/0/outcome") == "finished");
  CHECK(json_string(st, "/records/0/content") == "hello there, mock");
  CHECK(json_string(st, "/records/0/chat_id") == chat);
  CHECK(json_string(st, "/records/0/user_id") == "00000000-0000-4000-8000-000000000001");
  CHECK(json_string(st, "/records/0/headers/user-agent") == "qp-test/1.0");
  CHECK(json_string(st, "/records/0/headers/x-request-id") == "req-123");
  CHECK(json_bool(st, "/records/0/has_bx_umidtoken"));
  CHECK(json_string(st, "/records/0/response_id") == a.created_response_id);
  CHECK(json_int(st, "/records/0/output_tokens") == a.last_output_tokens);
  // Never echo secrets.
  CHECK(st.find(token) == std::string::npos);
  CHECK(st.find("T2gAsecretumid") == std::string::npos);
}

TEST_CASE("multi-turn chaining follows the message tree", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  Reassembled first = reassemble(complete(port, token, chat, completion_body(chat, "one")).body);
  REQUIRE(!first.created_response_id.empty());
  CHECK(first.created_parent_id != first.created_response_id);
  Reassembled second =
      reassemble(complete(port, token, chat,
                          completion_body(chat, "two", "\"" + first.created_response_id + "\""))
                     .body);
  CHECK(second.answer == "You said: two");
  std::string st = state(port);
  CHECK(json_int(st, "/records/1/context_messages") == 2);
  CHECK(json_string(st, "/records/1/parent_id") == first.created_response_id);
  // U is a valid parent too.
  Reassembled third =
      reassemble(complete(port, token, chat,
                          completion_body(chat, "three", "\"" + first.created_parent_id + "\""))
                     .body);
  CHECK(third.answer == "You said: three");
  // The chat detail has all six messages.
  Response detail = http(port, "GET", "/api/v2/chats/" + chat, auth_headers(token));
  CHECK(json_string(detail.body, "/data/chat/history/messages/" + first.created_response_id +
                                     "/content") == "You said: one");
}

TEST_CASE("validation errors use the exact spec strings", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string alice = token_for("alice");
  std::string chat = new_chat(port, alice);
  auto details = [&](const Response& r) {
    CHECK(r.status == 200);
    CHECK_FALSE(json_bool(r.body, "/success"));
    CHECK(json_string(r.body, "/data/code") == "Bad_Request");
    return json_string(r.body, "/data/details");
  };
  CHECK(details(complete(port, alice, chat, completion_body(chat, "x", "\"nope\""))) ==
        "Invalid input chat parent_id nope is not exist.");
  CHECK(details(complete(port, alice, "missing", completion_body("missing", "x"))) ==
        "Invalid input chat_id missing is not exist.");
  // Another user's chat looks missing.
  std::string bob = token_for("bob");
  CHECK(details(complete(port, bob, chat, completion_body(chat, "x"))) ==
        "Invalid input chat_id " + chat + " is not exist.");
  std::string two =
      R"({"stream":true,"chat_id":")" + chat +
      R"(","model":"qwen3-max","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})";
  CHECK(details(complete(port, alice, chat, two)) == "Invalid input too many messages.");
  std::string bad_model = R"({"stream":true,"chat_id":")" + chat +
                          R"(","model":"gpt-9","messages":[{"role":"user","content":"a"}]})";
  CHECK(details(complete(port, alice, chat, bad_model)) == "Model not found: gpt-9");
  CHECK(details(http(port, "POST", "/api/v2/chat/completions?chat_id=" + chat,
                     {{"Authorization", "Bearer " + alice}}, completion_body(chat, "x"))) ==
        "Invalid Content-Type, expected application/json.");

  // Expired and forged tokens: HTTP 401 Unauthorized.
  Response expired = complete(port, token_for("alice", -10), chat, completion_body(chat, "x"));
  CHECK(expired.status == 401);
  CHECK(json_string(expired.body, "/data/code") == "Unauthorized");
  CHECK(json_string(expired.body, "/data/details") == "Token has expired");
  CHECK(complete(port, mint_jwt("wrong", "alice", std::time(nullptr) + 60), chat,
                 completion_body(chat, "x"))
            .status == 401);
  std::string st = state(port);
  CHECK(json_int(st, "/completions_rejected") == 8);
  CHECK(json_string(st, "/records/0/outcome") == "error");
  CHECK(json_string(st, "/records/0/error_code") == "Bad_Request");
}

TEST_CASE("the token cookie authenticates and guests use chat_mode guest", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("carol");
  HeaderList cookie_only = {{"Cookie", "x-ap=na-vancouver-pop; token=" + token + "; acw_tc=1"},
                            {"Content-Type", "application/json"}};
  Response nc = http(port, "POST", "/api/v2/chats/new", cookie_only,
                     R"({"models":["qwen3-max"],"chat_mode":"normal"})");
  REQUIRE(json_bool(nc.body, "/success"));

  HeaderList guest = {{"Content-Type", "application/json"}, {"bx-umidtoken", "T2gAdevice1"}};
  CHECK(http(port, "POST", "/api/v2/chats/new", guest,
             R"({"models":["qwen3-max"],"chat_mode":"normal"})")
            .status == 401);
  Response g = http(port, "POST", "/api/v2/chats/new", guest,
                    R"({"models":["qwen3-max"],"chat_mode":"guest"})");
  std::string chat = json_string(g.body, "/data/id");
  std::string body =
      R"({"stream":true,"chat_id":")" + chat +
      R"(","chat_mode":"guest","model":"qwen3-max","parent_id":null,"messages":[{"role":"user","content":"hi"}]})";
  Response r = http(port, "POST", "/api/v2/chat/completions?chat_id=" + chat, guest, body);
  CHECK(reassemble(r.body).answer == "You said: hi");
  // Another device cannot use that chat.
  HeaderList other = {{"Content-Type", "application/json"}, {"bx-umidtoken", "T2gAdevice2"}};
  Response o = http(port, "POST", "/api/v2/chat/completions?chat_id=" + chat, other, body);
  CHECK(json_string(o.body, "/data/details") == "Invalid input chat_id " + chat + " is not exist.");
  std::string st = state(port);
  CHECK(json_string(st, "/records/0/user_id") == guest_owner_id("T2gAdevice1"));
  CHECK(st.find("T2gAdevice1") == std::string::npos);
}

TEST_CASE("hold parks streams after the first answer token until release", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  REQUIRE(http(port, "POST", "/__mock/hold").status == 200);

  Client c(port);
  c.send_request("POST", "/api/v2/chat/completions?chat_id=" + chat, auth_headers(token),
                 completion_body(chat, "held reply"));
  Response head = c.read_head();
  REQUIRE(head.status == 200);
  std::string first = c.read_until("\"content\": \"You\"");
  // The client has the first token while the mock has not finished.
  CHECK(wait_state(port, [](const std::string& s) { return json_int(s, "/parked") == 1; }));
  std::string st = state(port);
  CHECK(json_int(st, "/completions_finished") == 0);
  CHECK(json_int(st, "/streams_active") == 1);
  CHECK(json_bool(st, "/held"));

  // The chat is busy meanwhile.
  Response busy = complete(port, token, chat, completion_body(chat, "again"));
  CHECK(json_string(busy.body, "/data/details") == "The chat is in progress!");

  Response rel = http(port, "POST", "/__mock/release");
  CHECK(json_int(rel.body, "/released") == 1);
  std::string rest = c.read_rest_chunked();
  Reassembled a = reassemble(first + rest);
  CHECK(a.answer == "You said: held reply");
  CHECK(a.finished_events == 1);
  CHECK(wait_state(port,
                   [](const std::string& s) { return json_int(s, "/completions_finished") == 1; }));
}

TEST_CASE("stop ends a running generation with finished", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  http(port, "POST", "/__mock/hold");
  Client c(port);
  c.send_request("POST", "/api/v2/chat/completions?chat_id=" + chat, auth_headers(token),
                 completion_body(chat, "a long answer that will be cut"));
  c.read_head();
  std::string first = c.read_until("\"content\": \"You\"");
  Response stop = http(port, "POST", "/api/v2/chat/completions/stop?chat_id=" + chat,
                       auth_headers(token), "{\"chat_id\":\"" + chat + "\"}");
  CHECK(json_bool(stop.body, "/success"));
  CHECK(json_bool(stop.body, "/data/status"));
  Reassembled a = reassemble(first + c.read_rest_chunked());
  CHECK(a.answer == "You");
  CHECK(a.finished_events == 1);
  CHECK(wait_state(port, [](const std::string& s) {
    return json_int(s, "/completions_stopped") == 1 && json_int(s, "/stops") == 1;
  }));
  CHECK(json_string(state(port), "/records/0/outcome") == "stopped");
  // The chat is free again (and hold stays on until release).
  http(port, "POST", "/__mock/release");
  CHECK(reassemble(complete(port, token, chat, completion_body(chat, "next")).body).answer ==
        "You said: next");
}

TEST_CASE("a client that disconnects mid-stream is recorded as aborted", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  http(port, "POST", "/__mock/hold");
  {
    Client c(port);
    c.send_request("POST", "/api/v2/chat/completions?chat_id=" + chat, auth_headers(token),
                   completion_body(chat, "bye"));
    c.read_head();
    c.read_until("\"content\": \"You\"");
  }  // closes the socket
  CHECK(wait_state(port, [](const std::string& s) {
    return json_int(s, "/completions_aborted") == 1 && json_int(s, "/streams_active") == 0;
  }));
  CHECK(json_string(state(port), "/records/0/outcome") == "aborted");
}

TEST_CASE("fault switches", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);

  SECTION("rate limited, next request only") {
    config(port, R"({"faults":[{"kind":"rate_limited","scope":"next","num":6}]})");
    Response r = complete(port, token, chat, completion_body(chat, "x"));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(json_string(r.body, "/data/code") == "RateLimited");
    CHECK(json_int(r.body, "/data/num") == 6);
    CHECK(reassemble(complete(port, token, chat, completion_body(chat, "y")).body).answer ==
          "You said: y");
  }
  SECTION("WAF (a) punish JSON and (b) HTML 403") {
    config(port, R"({"faults":[{"kind":"waf_json","count":1},{"kind":"waf_html","count":1}]})");
    Response a = complete(port, token, chat, completion_body(chat, "x"));
    CHECK(a.status == 200);
    CHECK(a.body.find("FAIL_SYS_USER_VALIDATE") != std::string::npos);
    Response b = complete(port, token, chat, completion_body(chat, "x"));
    CHECK(b.status == 403);
    CHECK(b.header("content-type").rfind("text/html", 0) == 0);
    CHECK(b.body.find("aliyun_waf_aa") != std::string::npos);
  }
  SECTION("forced 401 for one user only") {
    config(port, R"({"faults":[{"kind":"unauthorized","scope":"user","user":"bob"}]})");
    CHECK(complete(port, token, chat, completion_body(chat, "x")).status == 200);
    std::string bob = token_for("bob");
    std::string bchat = new_chat(port, bob);
    CHECK(complete(port, bob, bchat, completion_body(bchat, "x")).status == 401);
  }
  SECTION("internal error before the stream and mid-stream") {
    config(port, R"({"faults":[{"kind":"internal_error","count":1},
                               {"kind":"mid_stream_error","count":1,"after":2}]})");
    Response pre = complete(port, token, chat, completion_body(chat, "x"));
    CHECK(json_string(pre.body, "/data/details") == "Internal error");
    Response mid = complete(port, token, chat, completion_body(chat, "x"));
    Reassembled a = reassemble(mid.body);
    CHECK(a.answer == "You said");
    CHECK(a.error_events == 1);
    CHECK(a.finished_events == 0);
    CHECK(wait_state(port,
                     [](const std::string& s) { return json_int(s, "/completions_error") == 1; }));
  }
  SECTION("forced chat in progress") {
    config(port, R"({"faults":[{"kind":"chat_in_progress","count":1}]})");
    CHECK(json_string(complete(port, token, chat, completion_body(chat, "x")).body,
                      "/data/details") == "The chat is in progress!");
  }
  SECTION("quota per user") {
    config(port, R"({"user_quota":1,"quota_num":24})");
    CHECK(complete(port, token, chat, completion_body(chat, "x")).header("content-type") ==
          "text/event-stream; charset=utf-8");
    Response r = complete(port, token, chat, completion_body(chat, "x"));
    CHECK(json_string(r.body, "/data/code") == "RateLimited");
    CHECK(json_int(r.body, "/data/num") == 24);
  }
  SECTION("bad config is rejected") {
    Response r = http(port, "POST", "/__mock/config", {}, R"({"token_delay_ms":"fast"})");
    CHECK(r.status == 400);
    CHECK(json_string(r.body, "/error").find("token_delay_ms") != std::string::npos);
  }
}

TEST_CASE("stream shapes: 1-byte chunks, [DONE], 2026 variant, thinking", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  config(port, R"({"chunk_bytes":1,"emit_done":true,"variant_2026":true})");
  Response r = complete(port, token, chat, completion_body(chat, "tiny pieces"));
  Reassembled a = reassemble(r.body);
  CHECK(a.answer == "You said: tiny pieces");
  CHECK(a.done_lines == 1);
  CHECK(a.keep_alives >= 1);
  CHECK(r.body.find("\"timestamp\":") != std::string::npos);

  config(port, R"({"chunk_bytes":0,"emit_done":false,"variant_2026":false})");
  Response think = complete(
      port, token, chat, completion_body(chat, "deep", "null", "", R"(,"thinking_enabled":true)"));
  Reassembled t = reassemble(think.body);
  CHECK(t.thinking == "Thinking about: deep");
  CHECK(t.answer == "You said: deep");
  Response summary =
      complete(port, token, chat,
               completion_body(chat, "deep", "null", "",
                               R"(,"thinking_enabled":true,"thinking_format":"summary")"));
  Reassembled s = reassemble(summary.body);
  CHECK(s.summary_thought == std::vector<std::string>{"Thinking about: deep"});
  CHECK(s.thinking.empty());
}

TEST_CASE("stream:false returns the JSON envelope", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  std::string body =
      R"({"stream":false,"chat_id":")" + chat +
      R"(","model":"qwen3-max","parent_id":null,"messages":[{"role":"user","content":"plain"}]})";
  Response r = complete(port, token, chat, body);
  CHECK(r.header("content-type") == "application/json");
  CHECK(json_bool(r.body, "/success"));
  CHECK(json_string(r.body, "/data/choices/0/message/content") == "You said: plain");
  std::string mid = json_string(r.body, "/data/message_id");
  std::string st = state(port);
  CHECK(json_string(st, "/records/0/response_id") == mid);
  CHECK(json_string(st, "/records/0/user_message_id") == json_string(r.body, "/data/parent_id"));
  CHECK(json_string(st, "/records/0/outcome") == "finished");
}

TEST_CASE("rules posted to the admin API script the answers", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  Response r = http(
      port, "POST", "/__mock/rules", {},
      R"({"rules":[{"match":{"contains":"weather"},"tokens":["<tool","_call>","x</tool_call>"]}]})");
  REQUIRE(r.status == 200);
  CHECK(json_int(r.body, "/rules") == 1);
  Response c = complete(port, token, chat, completion_body(chat, "what is the weather"));
  CHECK(reassemble(c.body).answer == "<tool_call>x</tool_call>");
  CHECK(c.body.find("\"content\": \"_call>\"") != std::string::npos);
  CHECK(http(port, "POST", "/__mock/rules", {}, "[{}]").status == 400);
  // Reset restores the start-up (empty) rules and clears state.
  REQUIRE(http(port, "POST", "/__mock/reset").status == 200);
  std::string st = state(port);
  CHECK(json_int(st, "/rules") == 0);
  CHECK(json_int(st, "/chats") == 0);
  CHECK(json_int(st, "/completions_requested") == 0);
}

TEST_CASE("chat list, detail and delete", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string c1 = new_chat(port, token);
  std::string c2 = new_chat(port, token);
  Response list =
      http(port, "GET", "/api/v2/chats/?page=1&exclude_project=true", auth_headers(token));
  CHECK(json_bool(list.body, "/success"));
  CHECK(json_string(list.body, "/data/1/id").size() == 36);
  Response del = http(port, "DELETE", "/api/v2/chats/" + c1, auth_headers(token));
  CHECK(json_bool(del.body, "/success"));
  CHECK(json_bool(del.body, "/data/status"));
  Response gone = http(port, "GET", "/api/v2/chats/" + c1, auth_headers(token));
  CHECK(json_string(gone.body, "/data/details") ==
        "Invalid input chat_id " + c1 + " is not exist.");
  Response still = http(port, "GET", "/api/v2/chats/" + c2, auth_headers(token));
  CHECK(json_string(still.body, "/data/id") == c2);
}

TEST_CASE("STS token and the OSS stand-in, which verifies the signature", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  for (const char* path : {"/api/v1/files/getstsToken", "/api/v2/files/getstsToken"}) {
    Response sts = http(port, "POST", path, auth_headers(token),
                        R"({"filename":"a b.png","filesize":5,"filetype":"image"})");
    CHECK(json_string(sts.body, "/bucketname") == "qwen-webui-prod");
    std::string file_path = json_string(sts.body, "/file_path");
    CHECK(file_path.rfind("alice/", 0) == 0);
    CHECK(file_path.find("_a_b.png") != std::string::npos);
    CHECK(json_string(sts.body, "/file_url")
              .rfind("http://127.0.0.1:" + std::to_string(port) + "/" + file_path + "?", 0) == 0);
    std::string date = qp::media::http_date(1'800'000'000);
    qp::media::OssSignInput in;
    in.verb = "PUT";
    in.content_type = "image/png";
    in.date = date;
    in.headers = {{"x-oss-security-token", json_string(sts.body, "/security_token")}};
    std::string resource = "/qwen-webui-prod/" + file_path;
    in.resource = resource;
    std::string id = json_string(sts.body, "/access_key_id");
    std::string secret = json_string(sts.body, "/access_key_secret");
    auto put = [&](std::string auth, std::string token_header) {
      return http(port, "PUT", "/" + file_path,
                  {{"Content-Type", "image/png"},
                   {"Date", date},
                   {"x-oss-security-token", token_header},
                   {"Authorization", auth}},
                  "12345");
    };
    std::string good = qp::media::oss_authorization(id, secret, in);
    // Unsigned, signed with another secret, or without the token: refused.
    CHECK(http(port, "PUT", "/" + file_path, {{"Content-Type", "image/png"}}, "12345").status ==
          403);
    Response forged = put(qp::media::oss_authorization(id, "wrong", in), in.headers[0].second);
    CHECK(forged.status == 403);
    CHECK(forged.body.find("SignatureDoesNotMatch") != std::string::npos);
    CHECK(put(good, "CAISother").status == 403);
    CHECK(http(port, "GET", "/" + file_path).status == 404);
    CHECK(put(good, in.headers[0].second).status == 200);
    Response get = http(port, "GET", "/" + file_path);
    CHECK(get.body == "12345");
    // The parse step answers for a stored object only, then its status
    // says parsing for parse_polls (1) polls, then success.
    std::string fid = json_string(sts.body, "/file_id");
    Response parsed = http(port, "POST", "/api/v2/files/parse", auth_headers(token),
                           R"({"file_id":")" + fid + R"("})");
    CHECK(json_string(parsed.body, "/data/status") == "parsing");
    for (const char* want : {"parsing", "success"}) {
      Response st = http(port, "POST", "/api/v2/files/parse/status", auth_headers(token),
                         R"({"file_id_list":[")" + fid + R"("]})");
      CHECK(json_string(st.body, "/data/0/file_id") == fid);
      CHECK(json_string(st.body, "/data/0/status") == want);
    }
    Response unknown =
        http(port, "POST", "/api/v2/files/parse", auth_headers(token), R"({"file_id":"nope"})");
    CHECK(json_string(unknown.body, "/data/code") == "Bad_Request");
  }
  // The wrapped form on request.
  config(port, R"({"sts_wrapped":true})");
  Response wrapped = http(port, "POST", "/api/v1/files/getstsToken", auth_headers(token),
                          R"({"filename":"a.png","filesize":5,"filetype":"image"})");
  CHECK(json_string(wrapped.body, "/data/bucketname") == "qwen-webui-prod");
  CHECK(json_string(wrapped.body, "/data/endpoint") == "oss-accelerate.aliyuncs.com");
}

TEST_CASE("the model answers with what the OSS stand-in holds", "[mock_server]") {
  qp::mock::OssStore store;
  std::vector<std::pair<std::string, std::string>> media = {
      {"image", "http://127.0.0.1:1/u/x.png?Expires=1"}, {"image", "https://e.com/cat.png"}};
  CHECK(qp::mock::prompt_with_media("look", media, store) ==
        "look\n[image: http://127.0.0.1:1/u/x.png?Expires=1]\n[image: https://e.com/cat.png]");
  CHECK(qp::mock::describe_bytes(std::string("GIF89a\x05\x00\x03\x00", 10)) == "image/gif 5x3");
  CHECK(qp::mock::describe_bytes("%PDF-1.4 x") == "application/pdf 10 bytes");
}

TEST_CASE("delays hold chats/new and the first token", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  config(port, R"({"chats_new_delay_ms":50,"first_token_delay_ms":50,"token_delay_ms":1})");
  auto t0 = std::chrono::steady_clock::now();
  std::string chat = new_chat(port, token);
  auto t1 = std::chrono::steady_clock::now();
  CHECK(t1 - t0 >= std::chrono::milliseconds(48));  // libuv timers: 1 ms granularity
  Response r = complete(port, token, chat, completion_body(chat, "slow"));
  CHECK(std::chrono::steady_clock::now() - t1 >= std::chrono::milliseconds(48));
  CHECK(reassemble(r.body).answer == "You said: slow");
}

TEST_CASE("slow first byte, dropped stream and 2026 keep-alives during waits", "[mock_server]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);

  SECTION("slow first byte delays the response headers") {
    config(port, R"({"faults":[{"kind":"slow_first_byte","delay_ms":60,"count":1}]})");
    auto t0 = std::chrono::steady_clock::now();
    Client c(port);
    c.send_request("POST", "/api/v2/chat/completions?chat_id=" + chat, auth_headers(token),
                   completion_body(chat, "late"));
    Response head = c.read_head();
    // libuv timers have 1 ms granularity: allow for it.
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(58));
    CHECK(head.status == 200);
    CHECK(reassemble(c.read_rest_chunked()).answer == "You said: late");
  }
  SECTION("drop mid-stream resets the connection without finished") {
    config(port, R"({"faults":[{"kind":"drop_mid_stream","after":3,"count":1}]})");
    Client c(port);
    c.send_request("POST", "/api/v2/chat/completions?chat_id=" + chat, auth_headers(token),
                   completion_body(chat, "cut me"));
    Response head = c.read_head();
    CHECK(head.status == 200);
    std::string body, piece;
    bool cut = false;
    try {
      while (c.next_chunk(&piece)) body += piece;
    } catch (const std::runtime_error&) {
      cut = true;  // no terminating chunk: the connection was reset
    }
    CHECK(cut);
    Reassembled a = reassemble(body);
    CHECK(a.answer == "You said:");
    CHECK(a.finished_events == 0);
    CHECK(a.error_events == 0);
    CHECK(wait_state(port, [](const std::string& s) {
      return json_string(s, "/records/0/error_code") == "dropped";
    }));
    // The chat is usable again.
    CHECK(reassemble(complete(port, token, chat, completion_body(chat, "again")).body).answer ==
          "You said: again");
  }
  SECTION("keep-alives fill long waits in the 2026 variant") {
    config(port, R"({"variant_2026":true,"keepalive_ms":10,"first_token_delay_ms":50})");
    Reassembled a = reassemble(complete(port, token, chat, completion_body(chat, "wait")).body);
    // One after response.created, then one every 10 ms of the 50 ms wait
    // while more than 10 ms remain: 10, 20, 30, 40.
    CHECK(a.keep_alives == 5);
    CHECK(a.answer == "You said: wait");
  }
}

TEST_CASE("deep_research: the first turn asks back, the reply in the chat runs the research",
          "[mock_server][research]") {
  MockHarness mock;
  int port = mock.port();
  std::string token = token_for("alice");
  std::string chat = new_chat(port, token);
  auto research_body = [&](const std::string& content, const std::string& parent) {
    std::string b = completion_body(chat, content, parent);
    size_t at = b.find(R"("chat_type":"t2t")");
    REQUIRE(at != std::string::npos);
    return b.replace(at, 17, R"("chat_type":"deep_research")");
  };
  Reassembled ask = reassemble(complete(port, token, chat, research_body("tea", "null")).body);
  CHECK(ask.answer.find("Before I start the research on \"tea\"") == 0);
  CHECK(ask.research_plan.empty());
  CHECK(ask.research_sites.empty());

  config(port, R"({"research_rounds":3})");
  Reassembled run = reassemble(
      complete(port, token, chat, research_body("green tea", "\"" + ask.created_response_id + "\""))
          .body);
  CHECK(run.research_plan.find("Background of green tea") != std::string::npos);
  CHECK(run.research_sites.size() == 6);
  CHECK(run.references.size() == 6);
  CHECK(run.answer == "You said: green tea");
  CHECK(json_string(state(port), "/records/1/chat_type") == "deep_research");

  // Without the clarifying step the first turn researches at once.
  config(port, R"({"research_clarify":false,"research_rounds":1})");
  std::string chat2 = new_chat(port, token);
  chat = chat2;
  Reassembled once = reassemble(complete(port, token, chat, research_body("tea", "null")).body);
  CHECK(once.research_sites.size() == 2);
  CHECK(once.answer == "You said: tea");
}

TEST_CASE("deep_research knobs are validated", "[mock_server][research]") {
  MockHarness mock;
  int port = mock.port();
  CHECK(http(port, "POST", "/__mock/config", {}, R"({"research_rounds":9})").status == 400);
  CHECK(http(port, "POST", "/__mock/config", {}, R"({"research_rounds":0})").status == 400);
  CHECK(http(port, "POST", "/__mock/config", {}, R"({"research_delay_ms":-1})").status == 400);
  config(port, R"({"research_delay_ms":5,"research_rounds":8,"research_clarify":false})");
  std::string st = http(port, "GET", "/__mock/config").body;
  CHECK(json_int(st, "/config/research_rounds") == 8);
  CHECK(json_int(st, "/config/research_delay_ms") == 5);
}
