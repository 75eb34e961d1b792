// ChatCall with the client's `stop` and `max_tokens` (JobRequest.stop /
// .max_tokens) against FakeUpstream: the answer is cut, the call ends with
// the right finish_reason, and the upstream generation is stopped.
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fake_upstream.h"
#include "worker/chat_call.h"
#include "worker/qwen_client.h"

using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;
using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

namespace {

const std::string kChatId = "11111111-2222-4333-8444-555555555555";
const std::string kStopTarget = "/api/v2/chat/completions/stop?chat_id=" + kChatId;

std::string event(const std::string& text, int output_tokens) {
  return "data: {\"choices\":[{\"delta\":{\"content\":\"" + text +
         "\",\"phase\":\"answer\",\"status\":\"typing\"}}],\"usage\":{\"input_tokens\":3,"
         "\"output_tokens\":" +
         std::to_string(output_tokens) + ",\"total_tokens\":" + std::to_string(3 + output_tokens) +
         "}}\n\n";
}
const std::string kFinished =
    "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"phase\":\"answer\",\"status\":"
    "\"finished\"}}]}\n\n";

// One SSE body cut into pieces of `piece` bytes (0: one event per piece).
std::vector<std::string> body(const std::vector<std::string>& tokens, bool finished, size_t piece) {
  std::vector<std::string> events;
  int n = 0;
  for (const auto& t : tokens) events.push_back(event(t, ++n));
  if (finished) events.push_back(kFinished);
  if (piece == 0) return events;
  std::string all;
  for (const auto& e : events) all += e;
  std::vector<std::string> out;
  for (size_t i = 0; i < all.size(); i += piece) out.push_back(all.substr(i, piece));
  return out;
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

struct Run {
  Recorder rec;
  std::vector<FakeRequest> requests;
};

// Runs one chat whose completion stream is `pieces` (kept open when not
// finished, like a generation still running) and waits for the terminal
// callback and, if `expect_stop`, for the stop request.
Run run_chat(std::vector<std::string> pieces, bool keep_open, std::vector<std::string> stop,
             int64_t max_tokens, bool expect_stop) {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  Run out;
  {
    FakeUpstream up(&loop, [&](const FakeRequest& r) {
      FakeResponse resp;
      if (r.target == "/api/v2/chats/new") {
        resp.pieces = {R"({"success":true,"request_id":"r","data":{"id":")" + kChatId + "\"}}"};
      } else if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
        resp.pieces = {R"({"success":true,"request_id":"r","data":{"status":true}})"};
      } else {
        resp.content_type = "text/event-stream";
        resp.pieces = pieces;
        resp.keep_open = keep_open;
      }
      return resp;
    });
    qp::UpstreamConfig upstream;
    upstream.base_url = up.base_url();
    qp::AccountConfig account;
    account.name = "acct";
    account.cookies = "token=x";
    CurlMulti multi(&loop);
    REQUIRE(multi.init().ok());
    DeferredDelete deferred(&loop);
    {
      QwenClient client(&multi, &deferred, upstream, account);
      qp::protocol::JobRequest job;
      job.request_id = "req-limits";
      job.model = "qwen3-max";
      job.messages.push_back({"user", "hi", {}, {}, {}});
      job.stream = true;
      job.stop = std::move(stop);
      job.max_tokens = max_tokens;
      {
        ChatCall call(&client, job, &out.rec);
        REQUIRE(call.start().ok());
        REQUIRE(run_until(&loop, [&] { return out.rec.terminal > 0; }));
        if (expect_stop) {
          REQUIRE(run_until(&loop, [&] {
            for (const auto& r : up.requests()) {
              if (r.target == kStopTarget) return client.background_requests() == 0;
            }
            return false;
          }));
        }
        out.requests = up.requests();
      }
      deferred.flush();
    }
    multi.close();
    up.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  return out;
}

bool stop_sent(const Run& r) {
  for (const auto& q : r.requests) {
    if (q.target == kStopTarget) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("limits: a stop sequence split across events cuts the answer and stops upstream",
          "[client][limits]") {
  for (size_t piece : {size_t{0}, size_t{1}, size_t{13}}) {
    INFO("piece=" << piece);
    Run r = run_chat(body({"Keep ", "this ", "ST", "OP", " not this"}, false, piece),
                     /*keep_open=*/true, {"STOP"}, 0, /*expect_stop=*/true);
    REQUIRE(r.rec.done.has_value());
    CHECK(r.rec.terminal == 1);
    CHECK(r.rec.content == "Keep this ");
    CHECK(std::string(r.rec.done->finish_reason) == "stop");
    CHECK(stop_sent(r));
  }
}

TEST_CASE("limits: held-back text is released when the answer finishes", "[client][limits]") {
  Run r = run_chat(body({"ab", "x", "y"}, true, 0), false, {"xyz"}, 0, false);
  REQUIRE(r.rec.done.has_value());
  CHECK(r.rec.content == "abxy");
  CHECK(std::string(r.rec.done->finish_reason) == "stop");
  CHECK_FALSE(stop_sent(r));
}

TEST_CASE("limits: max_tokens ends with length and stops upstream", "[client][limits]") {
  Run r = run_chat(body({"one", " two", " three", " four"}, false, 0), true, {}, 2, true);
  REQUIRE(r.rec.done.has_value());
  CHECK(r.rec.content == "one two");
  CHECK(std::string(r.rec.done->finish_reason) == "length");
  CHECK(r.rec.done->usage.output_tokens == 2);
  CHECK(stop_sent(r));
}

TEST_CASE("limits: an answer that finishes at max_tokens ends with stop", "[client][limits]") {
  Run r = run_chat(body({"one", " two"}, true, 0), false, {}, 2, false);
  REQUIRE(r.rec.done.has_value());
  CHECK(r.rec.content == "one two");
  CHECK(std::string(r.rec.done->finish_reason) == "stop");
  CHECK_FALSE(stop_sent(r));
}

TEST_CASE("limits: stop and max_tokens together, the first reached wins", "[client][limits]") {
  Run a = run_chat(body({"a", "b", "c", "d"}, false, 0), true, {"c"}, 3, true);
  CHECK(a.rec.content == "ab");
  CHECK(std::string(a.rec.done->finish_reason) == "stop");
  Run b = run_chat(body({"a", "b", "c", "d"}, false, 0), true, {"d"}, 2, true);
  CHECK(b.rec.content == "ab");
  CHECK(std::string(b.rec.done->finish_reason) == "length");
}
