// The Worker's account handling against a fake broker and the fake upstream:
// an unusable account file at start (reported, jobs refused, fixed by a
// reload), rotation by reload() and by a change of the file with a stream in
// flight, token expiry, and sign-in renewal with the saved token.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <catch2/catch.hpp>

#include "common/accounts/private_file.h"
#include "common/jwt.h"
#include "common/protocol/codec.h"
#include "common/zmq/envelope.h"
#include "common/zmq/uv_socket.h"
#include "fake_broker.h"
#include "fake_upstream.h"
#include "worker/account_token_store.h"
#include "worker/worker.h"

using qp::protocol::Command;
using qp::testing::FakeRequest;
using qp::testing::FakeResponse;
using qp::testing::FakeUpstream;
using qp::testing::run_until;

namespace {

std::string jwt_with_exp(int64_t exp, std::string_view id = "u1") {
  return qp::jwt::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
         qp::jwt::base64url_encode("{\"id\":\"" + std::string(id) +
                                   "\",\"exp\":" + std::to_string(exp) + "}") +
         ".c2ln";
}

int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

const std::string kTokenA = jwt_with_exp(4102444800, "a");  // 2100-01-01
const std::string kTokenB = jwt_with_exp(4102444900, "b");

using Msg = qp::testing::BrokerMsg;
using qp::testing::chat_job;
using qp::testing::FakeBroker;

struct Env {
  uv_loop_t loop{};
  std::string dir;
  std::unique_ptr<zmq::context_t> ctx;
  std::unique_ptr<FakeUpstream> up;
  std::unique_ptr<FakeBroker> broker;
  qp::Config config;
  std::unique_ptr<qp::worker::Worker> worker;
  // The sign-in answer; empty: 400 "incorrect".
  std::string signin_token;
  size_t signins = 0;

  Env() {
    char tmpl[] = "/tmp/qp-worker-accounts-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    std::filesystem::create_directory(dir + "/accounts");
    REQUIRE(uv_loop_init(&loop) == 0);
    ctx = std::make_unique<zmq::context_t>(1);
    up = std::make_unique<FakeUpstream>(&loop, [this](const FakeRequest& r) { return answer(r); });
    broker = std::make_unique<FakeBroker>(&loop, *ctx);
    config.broker.worker_endpoint = broker->endpoint();
    config.broker.allow_plaintext_tcp = true;  // loopback (common/zmq/link_security.h)
    config.broker.heartbeat_ms = 50;
    config.upstream.base_url = up->base_url();
    config.worker.prewarm_chats = 0;
    config.accounts_dir = dir + "/accounts";
    config.state_dir = dir + "/state";
  }
  ~Env() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string file() const { return dir + "/accounts/acct.toml"; }
  void write(const std::string& text, mode_t mode = 0600) {
    qp::accounts::WriteOptions o;
    o.replace = true;
    REQUIRE(qp::accounts::write_private_file(file(), text, o).ok());
    REQUIRE(::chmod(file().c_str(), mode) == 0);
  }

  void start() {
    auto no_env = [](const char*, std::string*) { return false; };
    worker = std::make_unique<qp::worker::Worker>(
        &loop, *ctx, config, qp::accounts::load_account(config, "acct", no_env));
    REQUIRE(worker->start().ok());
    REQUIRE(run_until(&loop, [&] { return broker->find(Command::kReady).has_value(); }));
  }
  std::string routing() const { return broker->msgs.at(*broker->find(Command::kReady)).routing_id; }

  FakeResponse answer(const FakeRequest& r) {
    FakeResponse resp;
    if (r.target == "/api/v1/auths/signin") {
      ++signins;
      if (signin_token.empty()) {
        resp.status = 400;
        resp.pieces = {R"({"detail":"The email or password you entered is incorrect."})"};
      } else {
        resp.pieces = {R"({"id":"u","token":")" + signin_token + "\"}"};
      }
      return resp;
    }
    if (r.target == "/api/v2/chats/new") {
      resp.pieces = {R"({"success":true,"data":{"id":"chat-1"}})"};
      return resp;
    }
    if (r.target.rfind("/api/v2/chat/completions/stop", 0) == 0) {
      resp.pieces = {R"({"success":true,"data":{"status":true}})"};
      return resp;
    }
    resp.content_type = "text/event-stream";
    if (r.body.find("\"content\":\"slow\"") != std::string::npos) {
      resp.pieces = {
          "data: {\"choices\":[{\"delta\":{\"content\":\"x\",\"phase\":\"answer\"}}]}\n\n"};
      resp.keep_open = true;
      return resp;
    }
    resp.pieces = {
        "data: {\"response.created\":{\"chat_id\":\"chat-1\",\"parent_id\":\"p\","
        "\"response_id\":\"r\"}}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"ok\",\"phase\":\"answer\"}}],\"usage\":{"
        "\"input_tokens\":3,\"output_tokens\":1}}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"phase\":\"answer\",\"status\":"
        "\"finished\"}}]}\n\n"};
    return resp;
  }

  // The Authorization header of the completion request of job `text`.
  std::string completion_auth(const std::string& text) const {
    for (const auto& r : up->requests()) {
      if (r.target.rfind("/api/v2/chat/completions?", 0) == 0 &&
          r.body.find("\"content\":\"" + text + "\"") != std::string::npos) {
        auto it = r.headers.find("authorization");
        return it == r.headers.end() ? std::string() : it->second;
      }
    }
    return "(no request)";
  }
  std::string completion_cookie(const std::string& text) const {
    for (const auto& r : up->requests()) {
      if (r.target.rfind("/api/v2/chat/completions?", 0) == 0 &&
          r.body.find("\"content\":\"" + text + "\"") != std::string::npos) {
        auto it = r.headers.find("cookie");
        return it == r.headers.end() ? std::string() : it->second;
      }
    }
    return "(no request)";
  }

  void stop_worker() {
    worker->shutdown();
    run_until(
        &loop, [&] { return broker->find(Command::kDisconnect).has_value(); }, 2000);
    uv_run(&loop, UV_RUN_NOWAIT);
    worker.reset();
    uv_run(&loop, UV_RUN_NOWAIT);
  }

  void finish() {
    if (worker) worker->shutdown();
    run_until(
        &loop, [&] { return broker->find(Command::kDisconnect).has_value(); }, 2000);
    broker->close();
    up->close();
    uv_run(&loop, UV_RUN_DEFAULT);
    worker.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    broker.reset();
    up.reset();
    ctx.reset();
    CHECK(uv_loop_close(&loop) == 0);
  }
};

std::string account_toml(const std::string& token, const std::string& extra = {}) {
  return "token = \"" + token + "\"\ncookies = \"ssxmod_itna=1\"\n" + extra;
}

}  // namespace

TEST_CASE("worker: an unusable account file is reported, jobs are refused, a reload fixes it",
          "[worker][accounts]") {
  Env env;
  env.write(account_toml(kTokenA), 0644);  // readable by others: refused
  env.start();
  auto st = env.broker->last_status();
  CHECK(st.health == "credentials_invalid");
  CHECK(st.detail.find("chmod 600") != std::string::npos);
  CHECK(st.detail.find(kTokenA) == std::string::npos);
  CHECK(st.token_expires_unix_s == 0);

  // A job is refused at once (the broker fails it over), without the file's path.
  env.broker->job(env.routing(), chat_job("j1"));
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kError, "j1").has_value(); }));
  qp::protocol::JobError e;
  REQUIRE(qp::protocol::decode(env.broker->msgs[*env.broker->find(Command::kError, "j1")].body, &e)
              .ok());
  CHECK(e.code == qp::Code::kUpstreamAuth);
  CHECK(e.account_health == "credentials_invalid");
  CHECK(e.message.find(env.dir) == std::string::npos);
  CHECK(env.up->requests().empty());

  REQUIRE(::chmod(env.file().c_str(), 0600) == 0);
  env.worker->reload("test");
  REQUIRE(run_until(&env.loop, [&] { return env.broker->last_status().health == "ok"; }));
  st = env.broker->last_status();
  CHECK(st.detail.empty());
  CHECK(st.token_expires_unix_s == 4102444800);
  env.broker->job(env.routing(), chat_job("j2"));
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDone, "j2").has_value(); }));
  CHECK(env.completion_auth("hi") == "Bearer " + kTokenA);
  env.finish();
}

TEST_CASE("worker: a malformed or missing account file does not stop the worker",
          "[worker][accounts]") {
  Env env;
  SECTION("malformed") {
    env.write("token = \"not a jwt\"\n");
    env.start();
    auto st = env.broker->last_status();
    CHECK(st.health == "credentials_invalid");
    CHECK(st.detail.find("not a JWT") != std::string::npos);
    CHECK(st.detail.find("not a jwt") == std::string::npos);  // the value is never echoed
  }
  SECTION("missing") {
    env.start();
    auto st = env.broker->last_status();
    CHECK(st.health == "credentials_invalid");
    CHECK(st.detail.find("qwenproxy account import acct") != std::string::npos);
    // Creating the file is picked up by the directory watch.
    env.write(account_toml(kTokenA));
    REQUIRE(run_until(&env.loop, [&] { return env.broker->last_status().health == "ok"; }));
  }
  SECTION("expired, no sign-in configured") {
    env.write(account_toml(jwt_with_exp(now_s() - 3600)));
    env.start();
    REQUIRE(run_until(&env.loop,
                      [&] { return env.broker->last_status().health == "credentials_invalid"; }));
    CHECK(env.broker->last_status().detail.find("expired") != std::string::npos);
    CHECK(env.broker->last_status().token_expires_unix_s > 0);
  }
  env.finish();
}

TEST_CASE("worker: rotation keeps the stream in flight and new jobs use the new token",
          "[worker][accounts]") {
  Env env;
  env.write(account_toml(kTokenA));
  env.start();
  CHECK(env.broker->last_status().health == "ok");
  std::string w = env.routing();
  env.broker->job(w, chat_job("slow", "slow"));
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kChunk, "slow").has_value(); }));

  SECTION("by reload()") {
    env.write(account_toml(kTokenB));
    env.worker->reload("sighup");
  }
  SECTION("by the file watch") {
    env.write(account_toml(kTokenB, "capacity = 3\n"));
    REQUIRE(
        run_until(&env.loop, [&] { return env.worker->accounts().account().token == kTokenB; }));
  }
  REQUIRE(run_until(&env.loop,
                    [&] { return env.broker->last_status().token_expires_unix_s == 4102444900; }));
  env.broker->job(w, chat_job("after", "after"));
  REQUIRE(
      run_until(&env.loop, [&] { return env.broker->find(Command::kDone, "after").has_value(); }));
  CHECK(env.completion_auth("slow") == "Bearer " + kTokenA);
  CHECK(env.completion_auth("after") == "Bearer " + kTokenB);
  CHECK(env.completion_cookie("after").find("token=" + kTokenB) != std::string::npos);
  CHECK(env.completion_cookie("after").find(kTokenA) == std::string::npos);
  // The stream started before the rotation is still running.
  CHECK_FALSE(env.broker->find(Command::kError, "slow").has_value());
  CHECK_FALSE(env.broker->find(Command::kDone, "slow").has_value());
  CHECK(env.worker->in_flight() == 1);

  // A reload that fails keeps the credentials in effect.
  env.write("token = \"broken\"\n");
  env.worker->reload("sighup");
  CHECK(env.worker->accounts().account().token == kTokenB);
  CHECK(env.broker->last_status().health == "ok");
  env.broker->cancel(w, "slow");
  env.finish();
}

TEST_CASE("worker: signs in before the token expires and keeps the new token",
          "[worker][accounts]") {
  Env env;
  const std::string soon = jwt_with_exp(now_s() + 3600);  // less than 24 h left
  const std::string fresh = jwt_with_exp(now_s() + 7 * 86400);
  env.signin_token = fresh;
  env.write(account_toml(soon, "email = \"u@example.com\"\npassword = \"password1\"\n"));
  env.start();
  REQUIRE(run_until(&env.loop, [&] { return env.worker->accounts().account().token == fresh; }));
  CHECK(env.signins == 1);
  const FakeRequest* signin = nullptr;
  for (const auto& r : env.up->requests()) {
    if (r.target == "/api/v1/auths/signin") signin = &r;
  }
  REQUIRE(signin != nullptr);
  CHECK(signin->body.find("0b14d501a594442a01c6859541bcb3e8164d183d32937b851835442f69d5c94e") !=
        std::string::npos);
  CHECK(signin->body.find("password1") == std::string::npos);
  CHECK(signin->headers.count("authorization") == 0);
  CHECK(signin->headers.at("cookie").find("token=") == std::string::npos);

  // Saved for the next start.
  std::string saved = qp::worker::saved_token_path(env.config.state_dir, "acct");
  auto read = qp::worker::read_saved_token(saved);
  REQUIRE(read.has_value());
  REQUIRE(read.value().has_value());
  CHECK(read.value()->token == fresh);
  REQUIRE(run_until(&env.loop, [&] {
    return env.broker->last_status().token_expires_unix_s == read.value()->expires_unix_s;
  }));
  env.broker->job(env.routing(), chat_job("j1"));
  REQUIRE(run_until(&env.loop, [&] { return env.broker->find(Command::kDone, "j1").has_value(); }));
  CHECK(env.completion_auth("hi") == "Bearer " + fresh);

  // A restart uses the saved token without signing in again.
  env.stop_worker();
  env.broker->msgs.clear();
  env.start();
  CHECK(env.worker->accounts().account().token == fresh);
  CHECK(env.broker->last_status().health == "ok");
  CHECK(env.signins == 1);
  env.finish();
}

TEST_CASE(
    "worker: an account with only email and password signs in at start; a refused "
    "sign-in is reported",
    "[worker][accounts]") {
  Env env;
  env.write("email = \"u@example.com\"\npassword = \"pw\"\n");
  SECTION("accepted") {
    env.signin_token = jwt_with_exp(now_s() + 7 * 86400);
    env.start();
    REQUIRE(run_until(&env.loop, [&] { return env.broker->last_status().health == "ok"; }));
    CHECK(env.worker->accounts().account().token == env.signin_token);
  }
  SECTION("refused") {
    env.start();
    REQUIRE(run_until(&env.loop, [&] {
      return env.broker->last_status().detail.find("signing in failed") != std::string::npos;
    }));
    auto st = env.broker->last_status();
    CHECK(st.health == "credentials_invalid");
    CHECK(st.detail.find("refused the email or password") != std::string::npos);
    CHECK(st.detail.find("pw") == std::string::npos);
    CHECK(env.signins == 1);  // backs off: no second attempt right away
  }
  env.finish();
}
