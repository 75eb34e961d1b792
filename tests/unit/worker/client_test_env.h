// The fixtures of qwen_client_test.cc: a FakeUpstream, a CurlMulti and a QwenClient on one
// loop (Env), the handlers that record what a call reports, canned responses.
#pragma once

#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "fake_upstream.h"
#include "worker/chat_call.h"
#include "worker/qwen_client.h"
#include "worker/upstream_recorder.h"

namespace qp::worker::client_test {

using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;

// {"alg":"HS256","typ":"JWT"} . {"id":"u","exp":4102444800} . sig
inline const std::string kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6InUiLCJleHAiOjQxMDI0NDQ4MDB9.c2ln";
inline const std::string kChatId = "0bb333d4-3f20-434d-88c4-5768860e772d";

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> split(const std::string& s, size_t n) {
  std::vector<std::string> out;
  size_t step = (s.size() + n - 1) / n;
  for (size_t i = 0; i < s.size(); i += step) out.push_back(s.substr(i, step));
  return out;
}

inline FakeResponse json(std::string body, int status = 200) {
  FakeResponse r;
  r.status = status;
  r.pieces = {std::move(body)};
  return r;
}

inline FakeResponse sse(std::vector<std::string> pieces, uint64_t delay_ms = 0) {
  FakeResponse r;
  r.content_type = "text/event-stream";
  r.pieces = std::move(pieces);
  r.piece_delay_ms = delay_ms;
  return r;
}

inline FakeResponse new_chat_ok() {
  return json(R"({"success":true,"request_id":"r","data":{"id":")" + kChatId + "\"}}");
}

struct Recorder final : ChatHandler {
  std::vector<std::string> deltas;
  std::string content, reasoning;
  std::optional<ChatResult> done;
  std::optional<UpstreamFailure> error;
  int terminal = 0;
  void on_chat_delta(qp::protocol::JobChunk& c) override {
    deltas.push_back(c.content);
    content += c.content;
    reasoning += c.reasoning;
  }
  void on_chat_done(const ChatResult& r) override {
    done = r;
    ++terminal;
  }
  void on_chat_error(const UpstreamFailure& f) override {
    error = f;
    ++terminal;
  }
};

struct ModelsRecorder final : ModelsHandler {
  std::optional<std::vector<qp::protocol::ModelInfo>> models;
  std::optional<UpstreamFailure> error;
  void on_models(std::vector<qp::protocol::ModelInfo> m) override { models = std::move(m); }
  void on_models_error(const UpstreamFailure& f) override { error = f; }
};

inline qp::protocol::JobRequest job(std::string model = "qwen3-max", std::string text = "hello") {
  qp::protocol::JobRequest j;
  j.request_id = "req-1";
  j.model = std::move(model);
  qp::protocol::ChatMessage m;
  m.role = "user";
  m.content = std::move(text);
  j.messages.push_back(m);
  j.stream = true;
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
  std::vector<std::shared_ptr<void>> owned;  // calls: destroyed before the client

  template <typename T, typename... A>
  T& own(A&&... args) {
    auto p = std::make_shared<T>(std::forward<A>(args)...);
    owned.push_back(p);
    return *p;
  }

  explicit Env(FakeUpstream::Handler handler, uint64_t first_byte_ms = 5000,
               uint64_t idle_ms = 5000) {
    REQUIRE(uv_loop_init(&loop) == 0);
    up = std::make_unique<FakeUpstream>(&loop, std::move(handler));
    upstream.base_url = up->base_url();
    upstream.first_byte_timeout_ms = first_byte_ms;
    upstream.idle_timeout_ms = idle_ms;
    upstream.connect_timeout_ms = 2000;
    account.name = "acct";
    account.cookies = "x-ap=na-vancouver-pop; token=" + kJwt + "; ssxmod_itna=abc";
    account.bx_umidtoken = "T2gA-umid";
    multi = std::make_unique<CurlMulti>(&loop);
    REQUIRE(multi->init().ok());
    deferred = std::make_unique<DeferredDelete>(&loop);
    client = std::make_unique<QwenClient>(multi.get(), deferred.get(), upstream, account);
  }
  // Tears everything down and checks that every handle was closed.
  void finish() {
    owned.clear();
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

}  // namespace qp::worker::client_test
