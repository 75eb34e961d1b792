// ChatCall continuing a conversation and the pre-warmed ChatPool, over real
// sockets against FakeUpstream on the same libuv loop (as in
// qwen_client_test.cc). Every test ends by checking that no libuv handle
// leaked.
#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "common/conversation/history_key.h"
#include "conversation_test_env.h"
#include "fake_upstream.h"
#include "tests/unit/common/assistant_reply.h"
#include "worker/chat_call.h"
#include "worker/chat_pool.h"
#include "worker/chat_reaper.h"
#include "worker/prompt_builder.h"
#include "worker/qwen_client.h"

using qp::conversation::digest_history;
using qp::conversation::key_after_reply;
using qp::protocol::ChatMessage;
using qp::protocol::JobRequest;
using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::reply_key;
using qp::testing::run_until;
using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

using namespace qp::worker::conversation_test;  // NOLINT(google-build-using-namespace): test
                                                // brevity

TEST_CASE("conversation: a continuation sends only the new message, as a child of the parent",
          "[client][conversation]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat(kNewChatId);
    return answer(chat_of(r), {"I am ", "fine."}, "resp-2");
  });
  const JobRequest j = continuation_job();
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
  CHECK(call.continuing());
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(rec.content == "I am fine.");

  const auto& reqs = env.up->requests();
  CHECK(count_target(reqs, "/api/v2/chats/new") == 0);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].target == kCompletionPrefix + kOldChat);
  simdjson::dom::parser p;
  auto body = parse_json(p, reqs[0].body);
  CHECK(str_at(body, "/chat_id") == kOldChat);
  CHECK(str_at(body, "/parent_id") == kOldParent);
  CHECK(messages_in(body) == 1);
  CHECK(str_at(body, "/messages/0/parentId") == kOldParent);
  CHECK(str_at(body, "/messages/0/parent_id") == kOldParent);
  CHECK(str_at(body, "/messages/0/content") == "How are you?");

  CHECK(call.continuing());
  CHECK(rec.done->chat_id == kOldChat);
  CHECK(rec.done->response_id == "resp-2");
  CHECK(rec.done->session_key == reply_key(j.history.state, "I am fine."));
  CHECK(rec.done->session_key == next_key(j, "I am fine."));
  env.finish();
}

TEST_CASE("conversation: a new conversation reports the key of its next turn",
          "[client][conversation]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat(kNewChatId);
    return answer(chat_of(r), {"Hello", "!"});
  });
  const JobRequest j = job_of({msg("system", "Be brief."), msg("user", "hi")});
  CHECK(j.history.key.empty());
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
  CHECK_FALSE(call.continuing());
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 1);
  simdjson::dom::parser p;
  auto body = parse_json(p, last_completion(env.up->requests())->body);
  CHECK(null_at(body, "/parent_id"));
  CHECK(str_at(body, "/messages/0/content") == build_prompt(j.messages));
  CHECK(rec.done->chat_id == kNewChatId);
  CHECK(rec.done->response_id == "resp-1");
  CHECK(rec.done->session_key.size() == 64);
  CHECK(rec.done->session_key == next_key(j, "Hello!"));
  env.finish();
}

TEST_CASE("conversation: an upstream that lost the parent or the chat gets the whole history",
          "[client][conversation][retry]") {
  std::string error_body;
  SECTION("parent_id is not exist") {
    error_body =
        R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"Invalid input chat parent_id parent-old is not exist."}})";
  }
  SECTION("chat is not exist") {
    error_body =
        R"({"success":false,"request_id":"r","data":{"code":"Not_Found","details":"Chat not exist"}})";
  }
  int completions = 0;
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat(kNewChatId);
    if (++completions == 1) return json(error_body);
    return answer(chat_of(r), {"Fine", ", thanks."}, "resp-9");
  });
  const JobRequest j = continuation_job();
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK_FALSE(rec.error.has_value());
  CHECK(rec.content == "Fine, thanks.");

  const auto& reqs = env.up->requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].target == kCompletionPrefix + kOldChat);
  CHECK(reqs[1].target == "/api/v2/chats/new");
  CHECK(reqs[2].target == kCompletionPrefix + kNewChatId);
  simdjson::dom::parser p;
  auto body = parse_json(p, reqs[2].body);
  CHECK(null_at(body, "/parent_id"));
  CHECK(null_at(body, "/messages/0/parentId"));
  CHECK(messages_in(body) == 1);
  const std::string transcript = str_at(body, "/messages/0/content");
  CHECK(transcript == build_prompt(j.messages));
  CHECK(transcript.find("[User]\nhi") != std::string::npos);
  CHECK(transcript.find("[Assistant]\nHello") != std::string::npos);
  CHECK(transcript.find("[User]\nHow are you?") != std::string::npos);

  CHECK_FALSE(call.continuing());
  CHECK(rec.done->chat_id == kNewChatId);
  CHECK(rec.done->response_id == "resp-9");
  CHECK(rec.done->session_key == reply_key(j.history.state, "Fine, thanks."));
  CHECK(rec.done->session_key == next_key(j, "Fine, thanks."));
  env.finish();
}

TEST_CASE("conversation: a changed system prompt is sent as an update", "[client][conversation]") {
  Env env([&](const FakeRequest& r) { return answer(chat_of(r), {"Oui."}); });
  JobRequest j = job_of({msg("system", "Answer in French."), msg("user", "hi"),
                         msg("assistant", "Hello"), msg("user", "Ready?")});
  j.resume.chat_id = kOldChat;
  j.resume.parent_id = kOldParent;
  j.resume.system_hash = digest_history({msg("system", "Be brief.")}).system_hash;
  REQUIRE(j.resume.system_hash != j.history.system_hash);
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  REQUIRE(env.up->requests().size() == 1);
  simdjson::dom::parser p;
  auto body = parse_json(p, env.up->requests()[0].body);
  const std::string content = str_at(body, "/messages/0/content");
  CHECK(content.rfind("[Updated system instructions]\nAnswer in French.", 0) == 0);
  CHECK(content.find("[User]\nReady?") != std::string::npos);
  CHECK(content.find("Hello") == std::string::npos);
  CHECK(str_at(body, "/parent_id") == kOldParent);
  env.finish();
}

TEST_CASE("conversation: an answer cut short is not indexed", "[client][conversation]") {
  JobRequest j = continuation_job();
  SECTION("a stop sequence") {
    Env env([&](const FakeRequest& r) {
      if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
        return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
      }
      return answer(chat_of(r), {"one two ", "STOP", " three"});
    });
    j.stop = {"STOP"};
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.done.has_value());
    CHECK(rec.content == "one two ");
    CHECK(std::string(rec.done->finish_reason) == "stop");
    CHECK(rec.done->session_key.empty());
    REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
    env.finish();
  }
  SECTION("max_tokens") {
    Env env([&](const FakeRequest& r) {
      if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
        return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
      }
      return answer(chat_of(r), {"a", "b", "c", "d"});
    });
    j.max_tokens = 2;
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.done.has_value());
    CHECK(rec.content == "ab");
    CHECK(std::string(rec.done->finish_reason) == "length");
    CHECK(rec.done->session_key.empty());
    REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
    env.finish();
  }
  SECTION("a stop sequence that never matched: indexed") {
    Env env([&](const FakeRequest& r) { return answer(chat_of(r), {"one ", "two"}); });
    j.stop = {"STOP"};
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.done.has_value());
    CHECK(rec.content == "one two");
    CHECK(rec.done->session_key == next_key(j, "one two"));
    env.finish();
  }
}

TEST_CASE("conversation: without the reply's upstream id nothing is indexed",
          "[client][conversation]") {
  Env env([&](const FakeRequest&) {
    return sse({delta("ok"),
                "data: "
                R"({"choices":[{"delta":{"content":"","phase":"answer","status":"finished"}}]})"
                "\n\n"});
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), continuation_job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(rec.content == "ok");
  CHECK(rec.done->response_id.empty());
  CHECK(rec.done->session_key.empty());
  env.finish();
}

// --- ChatPool ----------------------------------------------------------------

namespace {

qp::WorkerConfig pool_config() {
  qp::WorkerConfig c;
  c.prewarm_chats = 2;
  c.prewarm_models = 2;
  c.prewarm_ttl_ms = 1'800'000;
  c.default_model = "qwen3-max";
  return c;
}

// chats/new answers pool-1, pool-2, … and records which ids it gave out.
struct ChatFactory {
  int next = 0;
  int fail_first = 0;  // this many chats/new fail with a WAF-less 500
  std::vector<std::string> issued;
  std::vector<std::string> models;  // the model each chats/new asked for
  FakeResponse operator()(const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") {
      simdjson::dom::parser p;
      simdjson::dom::element body;
      std::string_view model;
      if (!p.parse(r.body).get(body) && !body.at_pointer("/models/0").get(model)) {
        models.emplace_back(model);
      }
      if (fail_first > 0) {
        --fail_first;
        return json(
            R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"nope"}})",
            500);
      }
      issued.push_back("pool-" + std::to_string(++next));
      return new_chat(issued.back());
    }
    return answer(chat_of(r), {"ok"});
  }
};

}  // namespace

TEST_CASE("chat pool: pre-creates chats for the default model and refills after take",
          "[client][pool]") {
  ChatFactory factory;
  Env env([&](const FakeRequest& r) { return factory(r); });
  const ModelVariant v = parse_model_variant("qwen3-max");
  env.start_pool(pool_config());
  REQUIRE(run_until(&env.loop, [&] { return env.pool->ready(v) == 2; }));
  CHECK(env.pool->creating() == 0);
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 2);
  CHECK(factory.models == std::vector<std::string>{"qwen3-max", "qwen3-max"});

  std::string id = env.pool->take(v);
  CHECK((id == "pool-1" || id == "pool-2"));
  CHECK(env.pool->ready(v) == 1);
  REQUIRE(run_until(&env.loop, [&] { return env.pool->ready(v) == 2; }));
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 3);
  // The taken chat is not handed out again.
  std::set<std::string> taken = {id, env.pool->take(v), env.pool->take(v)};
  CHECK(taken.size() == 3);
  CHECK(taken.count("") == 0);
  env.finish();
}

TEST_CASE("chat pool: a new conversation uses a pooled chat (no chats/new of its own)",
          "[client][pool]") {
  ChatFactory factory;
  Env env([&](const FakeRequest& r) { return factory(r); });
  const ModelVariant v = parse_model_variant("qwen3-max");
  env.start_pool(pool_config());
  REQUIRE(run_until(&env.loop, [&] { return env.pool->ready(v) == 2; }));
  const std::vector<std::string> ready_before = factory.issued;
  const size_t new_chats_before = count_target(env.up->requests(), "/api/v2/chats/new");

  const JobRequest j = job_of({msg("user", "hi")});
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0 && env.pool->ready(v) == 2; }));
  REQUIRE(rec.done.has_value());
  const FakeRequest* completion = last_completion(env.up->requests());
  REQUIRE(completion != nullptr);
  const std::string used = chat_of(*completion);
  CHECK(std::find(ready_before.begin(), ready_before.end(), used) != ready_before.end());
  // The only new chats/new is the pool's refill.
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == new_chats_before + 1);
  simdjson::dom::parser p;
  auto body = parse_json(p, completion->body);
  CHECK(null_at(body, "/parent_id"));
  CHECK(str_at(body, "/messages/0/content") == "hi");
  CHECK(rec.done->chat_id == used);
  CHECK(rec.done->session_key == next_key(j, "ok"));

  SECTION("a continuation never takes a pooled chat") {
    Recorder rec2;
    auto& cont = env.own<ChatCall>(env.client.get(), continuation_job(), &rec2);
    REQUIRE(cont.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec2.terminal > 0; }));
    CHECK(chat_of(*last_completion(env.up->requests())) == kOldChat);
    CHECK(env.pool->ready(v) == 2);
  }
  env.finish();
}

TEST_CASE("chat pool: another model becomes warm once used", "[client][pool]") {
  ChatFactory factory;
  Env env([&](const FakeRequest& r) { return factory(r); });
  env.start_pool(pool_config());
  const ModelVariant plus = parse_model_variant("qwen-plus");
  REQUIRE(
      run_until(&env.loop, [&] { return env.pool->ready(parse_model_variant("qwen3-max")) == 2; }));
  CHECK(env.pool->take(plus).empty());
  REQUIRE(run_until(&env.loop, [&] { return env.pool->ready(plus) == 2; }));
  CHECK(std::count(factory.models.begin(), factory.models.end(), "qwen-plus") == 2);
  env.finish();
}

TEST_CASE("chat pool: failed creations back off; calls create their own chat", "[client][pool]") {
  ChatFactory factory;
  factory.fail_first = 2;
  Env env([&](const FakeRequest& r) { return factory(r); });
  const ModelVariant v = parse_model_variant("qwen3-max");
  env.start_pool(pool_config());
  REQUIRE(run_until(&env.loop, [&] {
    return count_target(env.up->requests(), "/api/v2/chats/new") == 2 && env.pool->creating() == 0;
  }));
  CHECK(env.pool->ready(v) == 0);

  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job_of({msg("user", "hi")}), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(rec.done->chat_id == "pool-1");  // the call's own chats/new
  // The pool is backing off: no refill was attempted for the take().
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 3);
  CHECK(env.pool->creating() == 0);
  env.finish();
}

TEST_CASE("chat pool: prewarm_models counts the default model too", "[client][pool][regression]") {
  // Regression (found by this test, fixed): ChatPool::warm()
  // (worker/chat_pool.cc) keeps the default model warm while it has no
  // uses, on top of the `prewarm_models` most used ones, so more pools than
  // prewarm_models exist (chat_pool.h: "prewarm_models in all").
  //
  // prewarm_models = 1: once another model is used, it is the most used one
  // and the only one that should keep a pool; the unused default model's
  // chats expire and are not replaced.
  ChatFactory factory;
  Env env([&](const FakeRequest& r) { return factory(r); });
  qp::WorkerConfig config = pool_config();
  config.prewarm_models = 1;
  config.prewarm_ttl_ms = 1;  // every ready chat expires at the first sweep (after 1 s)
  env.start_pool(config);
  const ModelVariant def = parse_model_variant("qwen3-max");
  const ModelVariant plus = parse_model_variant("qwen-plus");
  REQUIRE(run_until(&env.loop, [&] { return env.pool->ready(def) == 2; }));
  CHECK(env.pool->take(plus).empty());
  REQUIRE(run_until(&env.loop, [&] { return env.pool->ready(plus) == 2; }));
  const auto count = [&](const char* model) {
    return std::count(factory.models.begin(), factory.models.end(), model);
  };
  REQUIRE(count("qwen3-max") == 2);
  REQUIRE(count("qwen-plus") == 2);
  // The sweep drops all four; the refill replaces qwen-plus's only.
  REQUIRE(run_until(
      &env.loop, [&] { return count("qwen-plus") == 4 && env.pool->creating() == 0; }, 5000));
  CHECK(count("qwen3-max") == 2);
  CHECK(env.pool->ready(def) == 0);
  env.finish();
}

// --- chat deletion (upstream.delete_chats) -----------------------------------

namespace {

size_t deletes_of(const std::vector<FakeRequest>& reqs, const std::string& chat_id) {
  size_t n = 0;
  for (const auto& r : reqs) n += r.method == "DELETE" && r.target == "/api/v2/chats/" + chat_id;
  return n;
}

FakeResponse delete_or_stop_ok() {
  return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
}

bool is_background(const FakeRequest& r) {
  return r.method == "DELETE" || r.target.rfind("/api/v2/chat/completions/stop", 0) == 0;
}

}  // namespace

TEST_CASE("conversation: with delete_chats only chats nobody will continue are deleted",
          "[client][conversation]") {
  Env env([&](const FakeRequest& r) {
    if (is_background(r)) return delete_or_stop_ok();
    if (r.target == "/api/v2/chats/new") return new_chat(kNewChatId);
    return answer(chat_of(r), {"one ", "STOP", " two"});
  });
  env.upstream.delete_chats = true;
  SECTION("a new chat whose answer was cut is deleted") {
    JobRequest j = job_of({msg("user", "hi")});
    j.stop = {"STOP"};
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] {
      return rec.terminal > 0 && deletes_of(env.up->requests(), kNewChatId) == 1 &&
             env.client->background_requests() == 0;
    }));
    CHECK(rec.done->session_key.empty());
  }
  SECTION("a continued conversation's chat is never deleted, even when cut") {
    JobRequest j = continuation_job();
    j.stop = {"STOP"};
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), j, &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] {
      return rec.terminal > 0 &&
             count_target(env.up->requests(), "/api/v2/chat/completions/stop") == 1 &&
             env.client->background_requests() == 0;
    }));
    CHECK(rec.done->session_key.empty());
    CHECK(deletes_of(env.up->requests(), kOldChat) == 0);
  }
  SECTION("a replay after a lost parent deletes neither chat") {
    int completions = 0;
    env.up->close();
    env.up = std::make_unique<FakeUpstream>(&env.loop, [&](const FakeRequest& r) {
      if (is_background(r)) return delete_or_stop_ok();
      if (r.target == "/api/v2/chats/new") return new_chat(kNewChatId);
      if (++completions == 1) {
        return json(
            R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"parent_id x is not exist"}})");
      }
      return answer(chat_of(r), {"fine"});
    });
    env.upstream.base_url = env.up->base_url();
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), continuation_job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.done.has_value());
    CHECK_FALSE(rec.done->session_key.empty());
    // One more loop turn for any deletion scheduled with the result.
    REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
    CHECK(deletes_of(env.up->requests(), kOldChat) == 0);
    CHECK(deletes_of(env.up->requests(), kNewChatId) == 0);
  }
  env.finish();
}

TEST_CASE("chat reaper: deletes chats idle for the TTL", "[client][conversation]") {
  Env env([&](const FakeRequest&) { return delete_or_stop_ok(); });
  SECTION("without delete_chats it does nothing") {
    ChatReaper reaper(env.client.get(), 1000);
    reaper.start();
    reaper.touch("c1");
    CHECK(reaper.tracked() == 0);
    CHECK(reaper.sweep(uv_now(&env.loop) + 10'000) == 0);
    reaper.stop();
  }
  SECTION("with delete_chats") {
    env.upstream.delete_chats = true;
    ChatReaper reaper(env.client.get(), 1000);
    reaper.start();
    const uint64_t t0 = uv_now(&env.loop);
    reaper.touch("c1");
    reaper.touch("c2");
    reaper.touch("");
    CHECK(reaper.tracked() == 2);
    CHECK(reaper.sweep(t0 + 999) == 0);
    CHECK(reaper.tracked() == 2);
    CHECK(reaper.sweep(t0 + 1000) == 2);
    CHECK(reaper.tracked() == 0);
    REQUIRE(run_until(&env.loop, [&] {
      return deletes_of(env.up->requests(), "c1") == 1 &&
             deletes_of(env.up->requests(), "c2") == 1 && env.client->background_requests() == 0;
    }));
    CHECK(reaper.sweep(t0 + 100'000) == 0);  // each chat is deleted once
    reaper.stop();
  }
  env.finish();
}
