// The upstream client end to end over real sockets: CurlMulti on a libuv
// loop against FakeUpstream on the same loop. Every test ends by checking
// that no libuv handle leaked (uv_loop_close == 0).
#include "worker/qwen_client.h"

#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "client_test_env.h"
#include "fake_upstream.h"
#include "worker/chat_call.h"
#include "worker/upstream_recorder.h"

using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;
using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

using namespace qp::worker::client_test;  // NOLINT(google-build-using-namespace): test brevity

TEST_CASE("client: chat streams the capture and reports usage", "[client]") {
  const std::string capture = read_file(QP_TESTDATA_DIR "/upstream/completion-stream.sse");
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    return sse(split(capture, 7), /*delay_ms=*/1);
  });
  Recorder rec;
  auto& call =
      env.own<ChatCall>(env.client.get(), job("qwen3-max", "explain law to an alien"), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK_FALSE(rec.error.has_value());
  CHECK(rec.content.rfind("Greetings, Cosmic Traveler!", 0) == 0);
  CHECK(rec.content.size() == 3750);
  CHECK(rec.deltas.size() > 1);  // forwarded as it arrived, not at the end
  CHECK(rec.done->usage.input_tokens == 33);
  CHECK(rec.done->usage.output_tokens == 838);
  CHECK(rec.done->chat_id == "0cac4f88-3ce7-4b19-8ebb-632ca66c512c");  // from response.created

  const auto& reqs = env.up->requests();
  REQUIRE(reqs.size() == 2);
  const FakeRequest& nc = reqs[0];
  CHECK(nc.method == "POST");
  CHECK(nc.target == "/api/v2/chats/new");
  CHECK(nc.headers.at("authorization") == "Bearer " + kJwt);
  CHECK(nc.headers.at("cookie").find("token=" + kJwt) != std::string::npos);
  CHECK(nc.headers.at("content-type") == "application/json");
  CHECK(nc.headers.at("source") == "web");
  CHECK(nc.headers.at("bx-umidtoken") == "T2gA-umid");
  CHECK(nc.headers.at("x-request-id").size() == 36);
  CHECK(nc.headers.count("expect") == 0);
  const FakeRequest& cc = reqs[1];
  CHECK(cc.target == "/api/v2/chat/completions?chat_id=" + kChatId);
  CHECK(cc.headers.at("accept") == "text/event-stream");
  CHECK(cc.headers.at("accept-encoding") == "identity");
  CHECK(cc.headers.at("referer") == env.up->base_url() + "/c/" + kChatId);
  simdjson::dom::parser p;
  auto body = parse_json(p, cc.body);
  std::string_view s;
  REQUIRE_FALSE(body["chat_id"].get(s));
  CHECK(s == kChatId);
  REQUIRE_FALSE(body.at_pointer("/messages/0/content").get(s));
  CHECK(s == "explain law to an alien");
  env.finish();
}

TEST_CASE("client: thinking variant sends thinking and yields reasoning", "[client]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    return sse({"data: {\"choices\":[{\"delta\":{\"content\":\"hmm\",\"phase\":\"think\"}}]}\n\n",
                "data: {\"choices\":[{\"delta\":{\"content\":\"ok\",\"phase\":\"answer\"}}]}\n\n"
                "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"phase\":\"answer\",\"status\":"
                "\"finished\"}}]}"});
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job("qwen3-vl-plus-thinking"), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(rec.reasoning == "hmm");
  CHECK(rec.content == "ok");
  simdjson::dom::parser p;
  auto body = parse_json(p, env.up->requests().at(1).body);
  std::string_view model;
  bool thinking = false;
  REQUIRE_FALSE(body["model"].get(model));
  REQUIRE_FALSE(body.at_pointer("/messages/0/feature_config/thinking_enabled").get(thinking));
  CHECK(model == "qwen3-vl-plus");
  CHECK(thinking);
  env.finish();
}

TEST_CASE("client: a JSON error instead of the stream is classified", "[client]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    return json(
        R"({"success":false,"request_id":"r","data":{"code":"RateLimited","details":"You've reached the upper limit for today's usage.","num":6}})");
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.error.has_value());
  CHECK(rec.error->code == qp::Code::kRateLimited);
  CHECK(rec.error->retry_after_s == 21600);
  CHECK(rec.terminal == 1);
  env.finish();
}

TEST_CASE("client: WAF page on chats/new and 401 expired token", "[client]") {
  SECTION("WAF HTML 403") {
    Env env([&](const FakeRequest&) {
      FakeResponse r = json("<html><div id=aliyun_waf_aa>punish captcha</div></html>", 403);
      r.content_type = "text/html";
      return r;
    });
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.error.has_value());
    CHECK(rec.error->health == std::string_view(qp::protocol::kHealthNeedsVerification));
    CHECK(env.up->requests().size() == 1);
    env.finish();
  }
  SECTION("200 without a chat id") {
    Env env([&](const FakeRequest&) { return json(R"({"success":true,"data":{}})"); });
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.error.has_value());
    CHECK(rec.error->code == qp::Code::kUpstream);
    CHECK_THAT(rec.error->message, Catch::Contains("no data.id"));
    env.finish();
  }
  SECTION("401") {
    Env env([&](const FakeRequest&) {
      return json(
          R"({"success":false,"request_id":"r","data":{"code":"Unauthorized","details":"Token has expired"}})",
          401);
    });
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.error.has_value());
    CHECK(rec.error->code == qp::Code::kUpstreamAuth);
    CHECK(rec.error->message.find(kJwt) == std::string::npos);
    env.finish();
  }
}

TEST_CASE("client: EOF before finished is an error, never a fake done", "[client]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    return sse(
        {"data: {\"choices\":[{\"delta\":{\"content\":\"partial\",\"phase\":\"answer\"}}]}\n\n"});
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  CHECK(rec.content == "partial");
  REQUIRE(rec.error.has_value());
  CHECK_FALSE(rec.done.has_value());
  CHECK(rec.error->code == qp::Code::kUpstream);
  CHECK_THAT(rec.error->message, Catch::Contains("ended before"));
  env.finish();
}

TEST_CASE("client: mid-stream error event ends with an error", "[client]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    FakeResponse resp =
        sse({"data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"phase\":\"answer\"}}]}\n\n",
             "data: {\"error\":{\"code\":\"internal_error\",\"message\":\"Internal error\"}}\n\n"});
    resp.keep_open = true;  // the error alone must end the job
    return resp;
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.error.has_value());
  CHECK_THAT(rec.error->message, Catch::Contains("Internal error"));
  env.finish();
}

TEST_CASE("client: first-byte and idle timeouts", "[client]") {
  SECTION("first byte") {
    Env env(
        [&](const FakeRequest& r) {
          if (r.target == "/api/v2/chats/new") return new_chat_ok();
          FakeResponse resp;
          resp.hang = true;
          return resp;
        },
        /*first_byte_ms=*/100, /*idle_ms=*/5000);
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.error.has_value());
    CHECK(rec.error->code == qp::Code::kUpstreamTimeout);
    CHECK_THAT(rec.error->message, Catch::Contains("first-byte"));
    env.finish();
  }
  SECTION("idle") {
    Env env(
        [&](const FakeRequest& r) {
          if (r.target == "/api/v2/chats/new") return new_chat_ok();
          FakeResponse resp = sse({"data: {\"response.created\":{\"chat_id\":\"c\"}}\n\n"});
          resp.keep_open = true;
          return resp;
        },
        /*first_byte_ms=*/5000, /*idle_ms=*/100);
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.error.has_value());
    CHECK(rec.error->code == qp::Code::kUpstreamTimeout);
    CHECK_THAT(rec.error->message, Catch::Contains("idle timeout"));
    env.finish();
  }
}

TEST_CASE("client: cancel aborts the stream and asks upstream to stop", "[client]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
      return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
    }
    FakeResponse resp =
        sse({"data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"phase\":\"answer\"}}]}\n\n"});
    resp.keep_open = true;
    return resp;
  });
  Recorder rec;
  auto call = std::make_unique<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call->start().ok());
  REQUIRE(run_until(&env.loop, [&] { return !rec.content.empty(); }));
  call->cancel();
  CHECK(env.client->background_requests() == 1);
  REQUIRE(run_until(&env.loop, [&] { return env.up->requests().size() == 3; }));
  const FakeRequest& stop = env.up->requests()[2];
  CHECK(stop.method == "POST");
  CHECK(stop.target == "/api/v2/chat/completions/stop?chat_id=" + kChatId);
  CHECK(stop.body == R"({"chat_id":")" + kChatId + "\"}");
  CHECK(stop.headers.at("authorization") == "Bearer " + kJwt);
  REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
  CHECK(rec.terminal == 0);
  call.reset();
  env.finish();
}

TEST_CASE("client: connection refused marks the upstream unreachable", "[client]") {
  Env env([&](const FakeRequest&) { return json("{}"); });
  // Point the client at a port nobody listens on any more.
  std::string dead = env.up->base_url();
  env.up->close();
  env.upstream.base_url = dead;
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.error.has_value());
  CHECK(rec.error->code == qp::Code::kUpstream);
  CHECK(rec.error->health == std::string_view(qp::protocol::kHealthUnreachable));
  env.finish();
}

TEST_CASE("client: models fall back to /api/v2/models/", "[client]") {
  const std::string models = read_file(QP_TESTDATA_DIR "/upstream/models.json");
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/models") return json(R"({"detail":"Not Found"})", 404);
    return json(models);
  });
  ModelsRecorder rec;
  auto& call = env.own<ModelsCall>(env.client.get(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.models || rec.error; }));
  REQUIRE(rec.models.has_value());
  // 4 models + 4 thinking/search + 4 deep research + 4 image + 4 video variants
  CHECK(rec.models->size() == 20);
  REQUIRE(env.up->requests().size() == 2);
  CHECK(env.up->requests()[1].target == "/api/v2/models/");
  CHECK(env.up->requests()[1].method == "GET");
  env.finish();
}

TEST_CASE("client: models error is classified", "[client]") {
  Env env([&](const FakeRequest&) {
    return json(R"({"success":false,"data":{"code":"Unauthorized","details":"Token has expired"}})",
                401);
  });
  ModelsRecorder rec;
  auto& call = env.own<ModelsCall>(env.client.get(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.models || rec.error; }));
  REQUIRE(rec.error.has_value());
  CHECK(rec.error->code == qp::Code::kUpstreamAuth);
  CHECK(env.up->requests().size() == 1);  // no fallback for an auth error
  env.finish();
}

// --- retries (worker/retry_policy.h) ----------------------------------------

namespace {

const char* const kAnswerOk =
    "data: {\"choices\":[{\"delta\":{\"content\":\"ok\",\"phase\":\"answer\"}}]}\n\n"
    "data: "
    "{\"choices\":[{\"delta\":{\"content\":\"\",\"phase\":\"answer\",\"status\":\"finished\"}}]}"
    "\n\n";

size_t count_target(const std::vector<FakeRequest>& reqs, const std::string& prefix) {
  size_t n = 0;
  for (const auto& r : reqs) n += r.target.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("client: Internal error before the stream is retried once in a new chat",
          "[client][retry]") {
  int completions = 0;
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (++completions == 1) {
      return json(
          R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"Internal error"}})");
    }
    return sse({kAnswerOk});
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(rec.content == "ok");
  CHECK(rec.terminal == 1);
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 2);
  CHECK(completions == 2);
  CHECK(call.retries().internal_error == 1);
  // The retry sends the same prompt.
  simdjson::dom::parser p;
  auto body = parse_json(p, env.up->requests().back().body);
  std::string_view s;
  REQUIRE_FALSE(body.at_pointer("/messages/0/content").get(s));
  CHECK(s == "hello");
  env.finish();
}

TEST_CASE("client: a second Internal error is reported", "[client][retry]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    return json(
        R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"Internal error"}})");
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.error.has_value());
  CHECK(rec.error->code == qp::Code::kUpstream);
  CHECK_THAT(rec.error->message, Catch::Contains("Internal error"));
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 2);
  CHECK(rec.terminal == 1);
  env.finish();
}

TEST_CASE("client: an error event before any delta is retried, after one it is not",
          "[client][retry]") {
  const std::string err =
      "data: {\"error\":{\"code\":\"internal_error\",\"message\":\"Internal error\"}}\n\n";
  SECTION("first event") {
    int completions = 0;
    Env env([&](const FakeRequest& r) {
      if (r.target == "/api/v2/chats/new") return new_chat_ok();
      if (++completions == 1) return sse({err});
      return sse({kAnswerOk});
    });
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.done.has_value());
    CHECK(rec.content == "ok");
    CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 2);
    env.finish();
  }
  SECTION("after a forwarded delta") {
    Env env([&](const FakeRequest& r) {
      if (r.target == "/api/v2/chats/new") return new_chat_ok();
      FakeResponse resp = sse(
          {"data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"phase\":\"answer\"}}]}\n\n", err},
          /*delay_ms=*/20);
      return resp;
    });
    Recorder rec;
    auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
    REQUIRE(call.start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    REQUIRE(rec.error.has_value());
    CHECK(rec.content == "a");
    CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 1);
    CHECK(call.retries().total() == 0);
    env.finish();
  }
}

TEST_CASE("client: chat in progress → stop, back off, retry in the same chat", "[client][retry]") {
  int completions = 0;
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
      return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
    }
    if (++completions <= 2) {
      return json(
          R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"The chat is in progress!"}})");
    }
    return sse({kAnswerOk});
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  uint64_t t0 = uv_now(&env.loop);
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(uv_now(&env.loop) - t0 >= 600);  // 200 ms + 400 ms of backoff
  CHECK(completions == 3);
  CHECK(call.retries().in_progress == 2);
  const auto& reqs = env.up->requests();
  CHECK(count_target(reqs, "/api/v2/chats/new") == 1);
  CHECK(count_target(reqs, "/api/v2/chat/completions/stop?chat_id=" + kChatId) == 2);
  CHECK(count_target(reqs, "/api/v2/chat/completions?chat_id=" + kChatId) == 3);
  REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
  env.finish();
}

TEST_CASE("client: chat in progress gives up after 3 retries", "[client][retry]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
      return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
    }
    return json(
        R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"The chat is in progress!"}})");
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(
      &env.loop, [&] { return rec.terminal > 0; }, 10000));
  REQUIRE(rec.error.has_value());
  CHECK_THAT(rec.error->message, Catch::Contains("busy"));
  CHECK(count_target(env.up->requests(), "/api/v2/chat/completions?chat_id=") == 4);
  REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
  env.finish();
}

TEST_CASE("client: a missing parent restarts in a new chat", "[client][retry]") {
  int completions = 0;
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (++completions == 1) {
      return json(
          R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"Invalid input chat parent_id abc is not exist."}})");
    }
    return sse({kAnswerOk});
  });
  Recorder rec;
  auto& call = env.own<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call.start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done.has_value());
  CHECK(count_target(env.up->requests(), "/api/v2/chats/new") == 2);
  simdjson::dom::parser p;
  auto body = parse_json(p, env.up->requests().back().body);
  simdjson::dom::element parent;
  REQUIRE_FALSE(body["parent_id"].get(parent));
  CHECK(parent.is_null());
  env.finish();
}

TEST_CASE("client: cancel during the retry backoff ends quietly", "[client][retry]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
      return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
    }
    return json(
        R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"The chat is in progress!"}})");
  });
  Recorder rec;
  auto call = std::make_unique<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call->start().ok());
  REQUIRE(run_until(&env.loop, [&] { return call->retries().in_progress == 1; }));
  call->cancel();
  size_t before = count_target(env.up->requests(), "/api/v2/chat/completions?chat_id=");
  REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
  call.reset();
  env.finish();
  CHECK(before == 1);
  CHECK(rec.terminal == 0);
}

namespace {
std::vector<std::string> recorded_lines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
}  // namespace

TEST_CASE("client: recording writes each exchange as a redacted line", "[client][record]") {
  char dir[] = "/tmp/qp-client-rec-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/rec.jsonl";
  UpstreamRecorder recorder(path, 1 << 20);
  REQUIRE(recorder.open().ok());
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
      return json(R"({"success":true,"request_id":"r","data":{"status":true}})");
    }
    FakeResponse resp =
        sse({"data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"phase\":\"answer\"}}]}\n\n"});
    resp.keep_open = true;
    return resp;
  });
  env.client->set_recorder(&recorder);
  Recorder rec;
  auto call = std::make_unique<ChatCall>(env.client.get(), job(), &rec);
  REQUIRE(call->start().ok());
  REQUIRE(run_until(&env.loop, [&] { return !rec.content.empty(); }));
  call->cancel();  // the stream is stopped by the gateway: recorded as such, at once
  REQUIRE(run_until(&env.loop, [&] { return env.client->background_requests() == 0; }));
  call.reset();
  env.finish();

  auto lines = recorded_lines(path);
  REQUIRE(lines.size() == 3);  // chats/new, the completion, the stop
  simdjson::dom::parser p;
  auto nc = parse_json(p, lines[0]);
  CHECK(nc["path"].get_string().value() == "/api/v2/chats/new");
  CHECK(nc["outcome"].get_string().value() == "complete");
  CHECK(nc["response"]["body"]["data"]["id"].get_string().value() == kChatId);
  auto cc = parse_json(p, lines[1]);
  CHECK(cc["path"].get_string().value() == "/api/v2/chat/completions?chat_id=" + kChatId);
  CHECK(cc["outcome"].get_string().value() == "stopped");
  CHECK(cc["response"]["events"]
            .at(0)["data"]["choices"]
            .at(0)["delta"]["content"]
            .get_string()
            .value() == "a");
  auto st = parse_json(p, lines[2]);
  CHECK(st["path"].get_string().value() == "/api/v2/chat/completions/stop?chat_id=" + kChatId);
  for (const auto& l : lines) {
    CHECK(l.find(kJwt) == std::string::npos);
    CHECK(l.find("T2gA-umid") == std::string::npos);  // not a recorded header
    CHECK(l.find("na-vancouver-pop") == std::string::npos);
    CHECK(l.find("Bearer") == std::string::npos);
  }
  std::remove(path.c_str());
  ::rmdir(dir);
}
