#include "tools/bench/requests.h"

#include <string>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "tools/bench/options.h"
#include "tools/bench/proc_stats.h"

using namespace qp::bench;  // NOLINT: test file

namespace {

// Splits raw HTTP request bytes into head and body and checks Content-Length.
std::string body_of(const std::string& req) {
  size_t end = req.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::string head = req.substr(0, end + 2);  // with the last header's CRLF
  std::string body = req.substr(end + 4);
  CHECK(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  return body;
}

bool valid_json(const std::string& s) {
  simdjson::dom::parser p;
  return !p.parse(s).error();
}

}  // namespace

TEST_CASE("openai request is a complete POST with a valid body", "[bench]") {
  std::string r = openai_request({"127.0.0.1:8080", "qwen3-max", "say \"hi\"", true, "k1"});
  CHECK(r.rfind("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n", 0) == 0);
  CHECK(r.find("Authorization: Bearer k1\r\n") != std::string::npos);
  std::string body = body_of(r);
  CHECK(valid_json(body));
  CHECK(body.find("\"stream\":true") != std::string::npos);
  CHECK(body.find("say \\\"hi\\\"") != std::string::npos);
  std::string no_key = openai_request({"h:1", "m", "p", false, ""});
  CHECK(no_key.find("Authorization") == std::string::npos);
}

TEST_CASE("qwen requests carry the worker's auth and body shape", "[bench]") {
  QwenShape s{"127.0.0.1:9", "qwen3-max", "hello", "JWT", "UA", "Mon Jan 01 2026"};
  std::string out;
  qwen_new_chat_request(s, 1700000000000, 7, &out);
  CHECK(out.rfind("POST /api/v2/chats/new HTTP/1.1\r\n", 0) == 0);
  CHECK(out.find("Authorization: Bearer JWT\r\n") != std::string::npos);
  CHECK(out.find("Cookie: token=JWT\r\n") != std::string::npos);
  CHECK(valid_json(body_of(out)));

  std::string body;
  qwen_completion_request(s, "abc-123", 1700000000, 7, &body, &out);
  CHECK(out.rfind("POST /api/v2/chat/completions?chat_id=abc-123 HTTP/1.1\r\n", 0) == 0);
  CHECK(out.find("Referer: http://127.0.0.1:9/c/abc-123\r\n") != std::string::npos);
  std::string b = body_of(out);
  CHECK(valid_json(b));
  CHECK(b.find("\"chat_id\":\"abc-123\"") != std::string::npos);
  CHECK(b.find("\"stream\":true") != std::string::npos);
  CHECK(b.find("\"parent_id\":null") != std::string::npos);
  CHECK(b.find("\"content\":\"hello\"") != std::string::npos);
  // Ids change with seq; the rebuilt request reuses the buffers.
  std::string again;
  qwen_completion_request(s, "abc-123", 1700000000, 8, &body, &again);
  CHECK(again != out);
}

TEST_CASE("new_chat_id reads the success envelope only", "[bench]") {
  CHECK(new_chat_id(R"({"success":true,"request_id":"r","data":{"id":"c-1"}})") == "c-1");
  CHECK(new_chat_id(R"({"success":false,"request_id":"r","data":{"code":"Bad_Request"}})").empty());
  CHECK(new_chat_id(R"({"success":true,"data":{}})").empty());
  CHECK(new_chat_id("").empty());
  CHECK(new_chat_id(R"({"success":true,"data":{"id":"")").empty());
}

TEST_CASE("fake_uuid has the UUID layout and varies with its inputs", "[bench]") {
  char a[36];
  char b[36];
  fake_uuid(1, 2, a);
  fake_uuid(2, 2, b);
  std::string sa(a, 36);
  CHECK(sa[8] == '-');
  CHECK(sa[13] == '-');
  CHECK(sa[14] == '4');
  CHECK(sa[18] == '-');
  CHECK(sa[23] == '-');
  CHECK(sa != std::string(b, 36));
}

TEST_CASE("prompt_of_words gives N space-separated words", "[bench]") {
  CHECK(prompt_of_words(0).empty());
  CHECK(prompt_of_words(3) == "alpha beta gamma");
  CHECK(prompt_of_words(9) == "alpha beta gamma delta epsilon zeta eta theta alpha");
}

TEST_CASE("parse_url accepts numeric hosts and localhost", "[bench]") {
  auto t = parse_url("http://127.0.0.1:8080/v1");
  REQUIRE(t);
  CHECK(t->host == "127.0.0.1");
  CHECK(t->port == 8080);
  CHECK(t->host_header == "127.0.0.1:8080");
  auto l = parse_url("http://localhost:99");
  REQUIRE(l);
  CHECK(l->host == "127.0.0.1");
  auto v6 = parse_url("http://[::1]:7");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->host_header == "[::1]:7");
  CHECK_FALSE(parse_url("https://x:1"));
  CHECK_FALSE(parse_url("http://x"));
  CHECK_FALSE(parse_url("http://x:0"));
  CHECK_FALSE(parse_url("http://x:70000"));
  CHECK_FALSE(parse_url("http://:80"));
}

TEST_CASE("parse_group reads name=pid lists", "[bench]") {
  auto g = parse_group("gateway=1,22,333");
  REQUIRE(g);
  CHECK(g->name == "gateway");
  CHECK(g->pids == std::vector<pid_t>{1, 22, 333});
  CHECK_FALSE(parse_group("gateway"));
  CHECK_FALSE(parse_group("=1"));
  CHECK_FALSE(parse_group("g="));
  CHECK_FALSE(parse_group("g=1,x"));
  CHECK_FALSE(parse_group("g=-3"));
}

TEST_CASE("validate rejects impossible runs", "[bench]") {
  LoadOptions o;
  CHECK(validate(o).ok());
  o.connections = 0;
  CHECK_FALSE(validate(o).ok());
  o.connections = 1;
  o.api = Api::kQwen;
  CHECK_FALSE(validate(o).ok());  // needs a token
  o.token.assign(1, 't');         // (not = "t": GCC 12 -O3 false -Wrestrict)
  CHECK(validate(o).ok());
  o.duration_s = 0;
  CHECK_FALSE(validate(o).ok());  // neither duration nor requests
  o.requests = 5;
  CHECK(validate(o).ok());
}

TEST_CASE("/proc parsers read CPU ticks and resident pages", "[bench]") {
  // Field 2 may hold spaces and parentheses.
  std::string stat = "1234 (qp (x) y) S 1 2 3 4 5 6 7 8 9 10 111 222 0 0 20 0 1 0";
  auto ticks = parse_stat_cpu_ticks(stat);
  REQUIRE(ticks);
  CHECK(*ticks == 333);
  CHECK_FALSE(parse_stat_cpu_ticks("1234 (x) S 1 2"));
  CHECK_FALSE(parse_stat_cpu_ticks("garbage"));
  auto pages = parse_statm_resident_pages("5000 1200 300 10 0 900 0\n");
  REQUIRE(pages);
  CHECK(*pages == 1200);
  CHECK_FALSE(parse_statm_resident_pages("5000"));
  // This process exists and uses some memory and CPU.
  auto self = read_proc_sample(getpid());
  REQUIRE(self);
  CHECK(self->rss_bytes > 0);
  CHECK_FALSE(read_proc_sample(0x3fffffff));
}
