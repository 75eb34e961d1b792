// worker/media_call.h end to end over real sockets against FakeUpstream:
// t2i (URL, b64_json download, no image), t2v (task polling, failure).
#include "worker/media_call.h"

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fake_upstream.h"
#include "worker/media_requests.h"

using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;
using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

namespace {

const std::string kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6InUiLCJleHAiOjQxMDI0NDQ4MDB9.c2ln";

FakeResponse json(std::string body, int status = 200) {
  FakeResponse r;
  r.status = status;
  r.pieces = {std::move(body)};
  return r;
}
FakeResponse sse(std::vector<std::string> pieces) {
  FakeResponse r;
  r.content_type = "text/event-stream";
  r.pieces = std::move(pieces);
  return r;
}
FakeResponse new_chat_ok() {
  return json(R"({"success":true,"request_id":"r","data":{"id":"c1"}})");
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

qp::protocol::JobRequest job(std::string model, int n = 1, std::string format = "url") {
  qp::protocol::JobRequest j;
  j.request_id = "req-1";
  j.model = std::move(model);
  j.messages.push_back(qp::protocol::ChatMessage{"user", "a red fox", {}, {}, {}});
  j.media.size = "16:9";
  j.media.n = n;
  j.media.response_format = std::move(format);
  return j;
}

struct Env {
  uv_loop_t loop{};
  std::unique_ptr<FakeUpstream> up;
  qp::UpstreamConfig upstream;
  qp::AccountConfig account;
  std::unique_ptr<CurlMulti> multi;
  std::unique_ptr<DeferredDelete> deferred;
  std::unique_ptr<QwenClient> client;
  std::unique_ptr<MediaCall> call;

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
  void finish() {
    call.reset();
    client.reset();
    deferred.reset();
    multi.reset();
    up.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
};

std::string image_events(const std::string& url) {
  return "data: {\"response.created\":{\"chat_id\":\"c1\"}}\n\n"
         "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"phase\":"
         "\"image_gen\",\"status\":\"typing\",\"extra\":{\"image_list\":[{\"image\":\"" +
         url +
         "\"}]}}}]}\n\n"
         "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"role\":\"assistant\",\"status\":"
         "\"finished\",\"phase\":\"answer\"}}]}\n\n";
}

}  // namespace

TEST_CASE("media call: t2i image URL, markdown chunk, the request's chat type and size",
          "[media]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    std::string ev = image_events("https://cdn.qwenlm.ai/x.png?Expires=1&Signature=s");
    return sse({ev.substr(0, 50), ev.substr(50, 90), ev.substr(140)});  // split mid-event
  });
  Recorder rec;
  env.call = std::make_unique<MediaCall>(env.client.get(), job("qwen3-max-image"), &rec);
  REQUIRE(env.call->start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done);
  REQUIRE(rec.done->media.size() == 1);
  CHECK(rec.done->media[0].kind == "image");
  CHECK(rec.done->media[0].url == "https://cdn.qwenlm.ai/x.png?Expires=1&Signature=s");
  CHECK(rec.content == "![image](https://cdn.qwenlm.ai/x.png?Expires=1&Signature=s)");
  const auto& reqs = env.up->requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].body.find(R"("chat_type":"t2i")") != std::string::npos);
  CHECK(reqs[0].body.find(R"("models":["qwen3-max"])") != std::string::npos);
  CHECK(reqs[1].body.find(R"("size":"16:9")") != std::string::npos);
  CHECK(reqs[1].body.find(R"("chat_type":"t2i")") != std::string::npos);
  env.finish();
}

TEST_CASE("media call: b64_json downloads each image without cookies; n images", "[media]") {
  const std::string bytes("\x89PNG\r\n\x1a\nfake", 12);
  std::string base;
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (r.target.rfind("/img.png", 0) == 0) {
      FakeResponse f = json(bytes);
      f.content_type = "image/png";
      return f;
    }
    return sse({image_events(base + "/img.png?sig=1")});
  });
  base = env.up->base_url();
  Recorder rec;
  env.call =
      std::make_unique<MediaCall>(env.client.get(), job("qwen3-max-image", 2, "b64_json"), &rec);
  REQUIRE(env.call->start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done);
  REQUIRE(rec.done->media.size() == 2);
  for (const auto& m : rec.done->media) {
    CHECK(m.b64_json == base64_encode(bytes));
    CHECK(m.mime == "image/png");
  }
  int downloads = 0;
  for (const auto& r : env.up->requests()) {
    if (r.target.rfind("/img.png", 0) != 0) continue;
    ++downloads;
    CHECK(r.headers.count("cookie") == 0);
    CHECK(r.headers.count("authorization") == 0);
  }
  CHECK(downloads == 2);
  env.finish();
}

TEST_CASE("media call: a t2i stream without an image fails with no_image", "[media]") {
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    return sse(
        {"data: {\"choices\":[{\"delta\":{\"content\":\"I can't\",\"phase\":\"answer\","
         "\"status\":\"typing\"}}]}\n\n"});
  });
  Recorder rec;
  env.call = std::make_unique<MediaCall>(env.client.get(), job("qwen3-max-image"), &rec);
  REQUIRE(env.call->start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.error);
  CHECK(rec.error->code == qp::Code::kUpstream);
  CHECK(std::string(rec.error->error_code) == "no_image");
  CHECK(rec.terminal == 1);
  env.finish();
}

TEST_CASE("media call: t2v polls the task until success, or fails with Qwen's reason", "[media]") {
  for (bool succeed : {true, false}) {
    int polls = 0;
    Env env([&](const FakeRequest& r) {
      if (r.target == "/api/v2/chats/new") return new_chat_ok();
      if (r.target.rfind("/api/v2/chat/completions", 0) == 0)
        return json(
            R"({"success":true,"data":{"messages":[{"extra":{"wanx":{"task_id":"t-9"}}}]}})");
      if (r.target == "/api/v1/tasks/status/t-9") {
        if (++polls < 3) return json(R"({"success":true,"data":{"task_status":"running"}})");
        return json(
            succeed
                ? R"({"success":true,"data":{"task_status":"success","content":"https://cdn/v.mp4"}})"
                : R"({"success":true,"data":{"task_status":"failed","message":"blocked"}})");
      }
      return json(R"({"detail":"Not Found"})", 404);
    });
    Recorder rec;
    env.call = std::make_unique<MediaCall>(env.client.get(), job("qwen3-max-video"), &rec,
                                           /*poll_ms=*/10);
    REQUIRE(env.call->start().ok());
    REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
    CHECK(polls == 3);
    const auto& reqs = env.up->requests();
    REQUIRE(reqs.size() >= 2);
    CHECK(reqs[1].body.find(R"("stream":false)") != std::string::npos);
    CHECK(reqs[1].body.find(R"("chat_type":"t2v")") != std::string::npos);
    if (succeed) {
      REQUIRE(rec.done);
      REQUIRE(rec.done->media.size() == 1);
      CHECK(rec.done->media[0].kind == "video");
      CHECK(rec.done->media[0].url == "https://cdn/v.mp4");
      CHECK(rec.content == "[video](https://cdn/v.mp4)");
    } else {
      REQUIRE(rec.error);
      CHECK(std::string(rec.error->error_code) == "generation_failed");
      CHECK(rec.error->message.find("blocked") != std::string::npos);
    }
    env.finish();
  }
}

TEST_CASE("media call: Qwen's Internal error is retried once in a new chat", "[media]") {
  int completions = 0;
  Env env([&](const FakeRequest& r) {
    if (r.target == "/api/v2/chats/new") return new_chat_ok();
    if (++completions == 1)
      return json(
          R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"Internal error"}})");
    return sse({image_events("https://cdn.qwenlm.ai/y.png")});
  });
  Recorder rec;
  env.call = std::make_unique<MediaCall>(env.client.get(), job("qwen3-max-image"), &rec);
  REQUIRE(env.call->start().ok());
  REQUIRE(run_until(&env.loop, [&] { return rec.terminal > 0; }));
  REQUIRE(rec.done);
  CHECK(rec.done->media.at(0).url == "https://cdn.qwenlm.ai/y.png");
  CHECK(completions == 2);
  CHECK(env.up->requests().size() == 4);  // chats/new twice
  env.finish();
}
