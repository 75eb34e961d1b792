#include "worker/notice_sender.h"

#include <catch2/catch.hpp>

using qp::notices::AccountState;
using qp::notices::evaluate;
using qp::worker::notice_payload;
using qp::worker::url_host;

TEST_CASE("notice payload: text and content carry the sentence, plus the facts", "[notices]") {
  AccountState st{"alice", "ok", "", 1'780'003'600};
  auto n = evaluate(st, 1'780'000'000);
  std::string body = notice_payload(st, n);
  CHECK(body.rfind("{\"text\":\"Qwen account alice: its session token expires in 1 h", 0) == 0);
  CHECK(body.find("\"content\":\"Qwen account alice: its session token expires in 1 h") !=
        std::string::npos);
  CHECK(body.find("\"account\":\"alice\"") != std::string::npos);
  CHECK(body.find("\"kind\":\"token_expiring\"") != std::string::npos);
  CHECK(body.find("\"expires_unix_s\":1780003600") != std::string::npos);
  CHECK(body.find("\"health\":\"ok\"") != std::string::npos);
  // A detail with quotes stays valid JSON.
  AccountState bad{"bob", "credentials_invalid", "file \"bob.toml\" is open", 0};
  body = notice_payload(bad, evaluate(bad, 1'780'000'000));
  CHECK(body.find("\\\"bob.toml\\\"") != std::string::npos);
  CHECK(body.find("\"health\":\"credentials_invalid\"") != std::string::npos);
  CHECK(body.find("\"expires_unix_s\":0") != std::string::npos);
}

TEST_CASE("url_host: only the host of a webhook URL is ever logged", "[notices]") {
  CHECK(url_host("https://hooks.slack.com/services/T0/B0/secret") == "hooks.slack.com");
  CHECK(url_host("https://discord.com/api/webhooks/1/tok?wait=true") == "discord.com");
  CHECK(url_host("http://user:pass@ntfy.example:8080/topic") == "ntfy.example");
  CHECK(url_host("http://127.0.0.1:43210") == "127.0.0.1");
  CHECK(url_host("http://[::1]:80/x") == "[::1]");
  CHECK(url_host("not a url").empty());
  CHECK(url_host("").empty());
}
