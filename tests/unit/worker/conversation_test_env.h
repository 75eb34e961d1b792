// The fixtures of conversation_call_test.cc: a FakeUpstream with conversations, a
// QwenClient on one loop (Env), the recording handler, request and body readers.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "common/conversation/history_key.h"
#include "fake_upstream.h"
#include "tests/unit/common/assistant_reply.h"
#include "worker/chat_call.h"
#include "worker/chat_pool.h"
#include "worker/chat_reaper.h"
#include "worker/prompt_builder.h"
#include "worker/qwen_client.h"

namespace qp::worker::conversation_test {

using qp::conversation::digest_history;
using qp::conversation::key_after_reply;
using qp::protocol::ChatMessage;
using qp::protocol::JobRequest;
using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::reply_key;
using qp::testing::run_until;

inline const std::string kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6InUiLCJleHAiOjQxMDI0NDQ4MDB9.c2ln";
inline const std::string kNewChatId = "0bb333d4-3f20-434d-88c4-5768860e772d";
inline const std::string kOldChat = "chat-old";
inline const std::string kOldParent = "parent-old";
inline const std::string kCompletionPrefix = "/api/v2/chat/completions?chat_id=";

inline FakeResponse json(std::string body, int status = 200) {
  FakeResponse r;
  r.status = status;
  r.pieces = {std::move(body)};
  return r;
}

inline FakeResponse sse(std::vector<std::string> pieces) {
  FakeResponse r;
  r.content_type = "text/event-stream";
  r.pieces = std::move(pieces);
  return r;
}

inline FakeResponse new_chat(const std::string& id) {
  return json(R"({"success":true,"request_id":"r","data":{"id":")" + id + "\"}}");
}

inline std::string delta(const std::string& text, int output_tokens = 0) {
  std::string usage;
  if (output_tokens > 0) {
    usage = R"(,"usage":{"input_tokens":5,"output_tokens":)" + std::to_string(output_tokens) +
            R"(,"total_tokens":)" + std::to_string(5 + output_tokens) + "}";
  }
  return R"(data: {"choices":[{"delta":{"role":"assistant","content":)" + ("\"" + text + "\"") +
         R"(,"phase":"answer","status":"typing"}}])" + usage + "}\n\n";
}

// A whole answer in chat `chat_id`: response.created (with the reply's id),
// the text in pieces, finished.
inline FakeResponse answer(const std::string& chat_id, const std::vector<std::string>& texts,
                           const std::string& response_id = "resp-1") {
  std::vector<std::string> pieces;
  pieces.push_back(R"(data: {"response.created":{"chat_id":")" + chat_id +
                   R"(","parent_id":"p","response_id":")" + response_id + "\"}}\n\n");
  int tokens = 0;
  for (const auto& t : texts) pieces.push_back(delta(t, ++tokens));
  pieces.push_back(
      "data: "
      R"({"choices":[{"delta":{"content":"","phase":"answer","status":"finished"}}]})"
      "\n\n");
  return sse(std::move(pieces));
}

inline std::string chat_of(const FakeRequest& r) {
  if (r.target.rfind(kCompletionPrefix, 0) != 0) return {};
  return r.target.substr(kCompletionPrefix.size());
}

inline size_t count_target(const std::vector<FakeRequest>& reqs, const std::string& prefix) {
  size_t n = 0;
  for (const auto& r : reqs) n += r.target.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

inline const FakeRequest* last_completion(const std::vector<FakeRequest>& reqs) {
  for (auto it = reqs.rbegin(); it != reqs.rend(); ++it) {
    if (it->target.rfind(kCompletionPrefix, 0) == 0) return &*it;
  }
  return nullptr;
}

struct Recorder final : ChatHandler {
  std::string content;
  std::optional<ChatResult> done;
  std::optional<UpstreamFailure> error;
  int terminal = 0;
  void on_chat_delta(qp::protocol::JobChunk& c) override { content += c.content; }
  void on_chat_done(const ChatResult& r) override {
    done = r;
    ++terminal;
  }
  void on_chat_error(const UpstreamFailure& f) override {
    error = f;
    ++terminal;
  }
};

ChatMessage msg(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

// What the frontend sends: messages plus their HistoryInfo.
JobRequest job_of(std::vector<ChatMessage> messages, std::string model = "qwen3-max") {
  JobRequest j;
  j.request_id = "req-1";
  j.model = std::move(model);
  j.messages = std::move(messages);
  j.stream = true;
  auto d = digest_history(j.messages);
  j.history.key = d.key;
  j.history.new_from = d.new_from;
  j.history.state = d.state;
  j.history.system_hash = d.system_hash;
  return j;
}

// A second turn the broker turned into a continuation of kOldChat.
JobRequest continuation_job() {
  JobRequest j =
      job_of({msg("user", "hi"), msg("assistant", "Hello"), msg("user", "How are you?")});
  REQUIRE(j.history.new_from == 2);
  j.resume.chat_id = kOldChat;
  j.resume.parent_id = kOldParent;
  j.resume.system_hash = j.history.system_hash;
  return j;
}

// The key of the next request once the client appended `reply` and a new question.
inline std::string next_key(const JobRequest& j, const std::string& reply) {
  std::vector<ChatMessage> h = j.messages;
  h.push_back(msg("assistant", reply));
  h.push_back(msg("user", "and then?"));
  return digest_history(h).key;
}

struct Env {
  uv_loop_t loop{};
  std::unique_ptr<FakeUpstream> up;
  qp::UpstreamConfig upstream;
  qp::AccountConfig account;
  std::unique_ptr<CurlMulti> multi;
  std::unique_ptr<DeferredDelete> deferred;
  std::unique_ptr<QwenClient> client;
  std::unique_ptr<ChatPool> pool;
  std::vector<std::shared_ptr<void>> owned;  // calls: destroyed before the client

  template <typename T, typename... A>
  T& own(A&&... args) {
    auto p = std::make_shared<T>(std::forward<A>(args)...);
    owned.push_back(p);
    return *p;
  }

  explicit Env(FakeUpstream::Handler handler) {
    REQUIRE(uv_loop_init(&loop) == 0);
    up = std::make_unique<FakeUpstream>(&loop, std::move(handler));
    upstream.base_url = up->base_url();
    upstream.first_byte_timeout_ms = 5000;
    upstream.idle_timeout_ms = 5000;
    upstream.connect_timeout_ms = 2000;
    account.name = "acct";
    account.cookies = "token=" + kJwt;
    multi = std::make_unique<CurlMulti>(&loop);
    REQUIRE(multi->init().ok());
    deferred = std::make_unique<DeferredDelete>(&loop);
    client = std::make_unique<QwenClient>(multi.get(), deferred.get(), upstream, account);
  }
  void start_pool(const qp::WorkerConfig& config) {
    pool = std::make_unique<ChatPool>(client.get(), deferred.get(), config);
    client->set_chat_pool(pool.get());
    pool->start();
  }
  void finish() {
    owned.clear();
    if (pool) {
      client->set_chat_pool(nullptr);
      pool.reset();
    }
    client.reset();
    deferred.reset();
    multi.reset();
    up.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
};

inline simdjson::dom::element parse_json(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element e;
  REQUIRE_FALSE(p.parse(s).get(e));
  return e;
}

inline std::string str_at(simdjson::dom::element body, const char* pointer) {
  std::string_view s;
  REQUIRE_FALSE(body.at_pointer(pointer).get(s));
  return std::string(s);
}

inline bool null_at(simdjson::dom::element body, const char* pointer) {
  simdjson::dom::element e;
  REQUIRE_FALSE(body.at_pointer(pointer).get(e));
  return e.is_null();
}

inline size_t messages_in(simdjson::dom::element body) {
  simdjson::dom::array a;
  REQUIRE_FALSE(body["messages"].get(a));
  return a.size();
}

}  // namespace qp::worker::conversation_test
