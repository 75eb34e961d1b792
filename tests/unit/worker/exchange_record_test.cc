#include "worker/exchange_record.h"

#include <catch2/catch.hpp>
#include <simdjson.h>

using namespace qp::worker::record;

namespace {

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& line) {
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);  // one line
  simdjson::dom::element e;
  REQUIRE(p.parse(line).get(e) == simdjson::SUCCESS);
  return e;
}

}  // namespace

TEST_CASE("exchange record: a streamed completion with its events and timing") {
  Redactor r;
  std::vector<std::string> headers = {"Accept: text/event-stream", "Authorization: Bearer xyz",
                                      "Content-Type: application/json", "bx-ua: 231!abc",
                                      "Cookie: token=t"};
  ExchangeRecord rec(&r, "POST", "https://chat.qwen.ai/api/v2/chat/completions?chat_id=c1", headers,
                     R"({"stream":true,"chat_id":"c1","token":"zzz"})", 1000, 1 << 20);
  rec.on_header_line("HTTP/1.1 100 Continue\r\n");
  rec.on_header_line("\r\n");
  rec.on_header_line("HTTP/1.1 200 OK\r\n");
  rec.on_header_line("Content-Type: text/event-stream;charset=UTF-8\r\n");
  rec.on_header_line("Set-Cookie: acw_tc=secret; Path=/\r\n");
  rec.on_header_line("x-request-id: 123\r\n");
  rec.on_body("data: {\"response.created\":{\"chat_id\":\"c1\"}}\n\nda", 5);
  rec.on_body("ta: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n", 9);
  rec.on_body("data: {\"choices\":[{\"delta\":{\"status\":\"finished\"}}]}", 12);
  CHECK(rec.is_sse());
  std::string line = rec.finish(200, 15, "complete", {});
  CHECK(line.find("secret") == std::string::npos);
  CHECK(line.find("xyz") == std::string::npos);
  CHECK(line.find("231!abc") == std::string::npos);
  CHECK(line.find("zzz") == std::string::npos);
  CHECK(line.find("x-request-id") == std::string::npos);

  simdjson::dom::parser p;
  auto doc = parse(p, line);
  CHECK(doc["v"].get_int64().value() == 1);
  CHECK(doc["method"].get_string().value() == "POST");
  CHECK(doc["path"].get_string().value() == "/api/v2/chat/completions?chat_id=c1");
  CHECK(doc["request"]["headers"]["accept"].get_string().value() == "text/event-stream");
  CHECK(doc["request"]["headers"]["authorization"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(doc["request"]["body"]["stream"].get_bool().value());
  CHECK(doc["response"]["status"].get_int64().value() == 200);
  CHECK(doc["response"]["headers"]["content-type"].get_string().value() ==
        "text/event-stream;charset=UTF-8");
  auto events = doc["response"]["events"].get_array().value();
  REQUIRE(events.size() == 3);
  CHECK(events.at(0)["t_ms"].get_uint64().value() == 5);
  CHECK(events.at(1)["t_ms"].get_uint64().value() == 9);
  CHECK(events.at(2)["t_ms"].get_uint64().value() == 12);  // the unterminated last event
  CHECK(events.at(1)["data"]["choices"].at(0)["delta"]["content"].get_string().value() == "Hi");
  CHECK(doc["outcome"].get_string().value() == "complete");
  CHECK_FALSE(doc["truncated"].get_bool().value());
}

TEST_CASE("exchange record: a JSON error body, a text body, a failure, truncation") {
  Redactor r;
  simdjson::dom::parser p;
  {
    ExchangeRecord rec(&r, "POST", "http://127.0.0.1:9/api/v2/chats/new", {}, "{}", 0, 1 << 20);
    rec.on_header_line("HTTP/1.1 200 OK\r\n");
    rec.on_header_line("content-type: application/json\r\n");
    rec.on_body(R"({"success":false,"data":{"code":"RateLimited","num":6}})", 3);
    auto doc = parse(p, rec.finish(0, 4, "complete", {}));
    CHECK(doc["path"].get_string().value() == "/api/v2/chats/new");
    CHECK(doc["response"]["body"]["data"]["code"].get_string().value() == "RateLimited");
    CHECK(doc["response"]["events"].error() == simdjson::NO_SUCH_FIELD);
  }
  {
    ExchangeRecord rec(&r, "GET", "/api/models", {}, {}, 0, 1 << 20);
    rec.on_header_line("HTTP/1.1 403 Forbidden\r\n");
    rec.on_header_line("Content-Type: text/html\r\n");
    rec.on_body("<html>aliyun_waf_aa punish</html>", 1);
    auto doc = parse(p, rec.finish(403, 2, "complete", {}));
    CHECK(doc["response"]["body"].get_string().value() == "<html>aliyun_waf_aa punish</html>");
    CHECK(doc["request"]["body"].error() == simdjson::NO_SUCH_FIELD);
  }
  {
    ExchangeRecord rec(&r, "POST", "/x", {}, {}, 0, 1 << 20);
    auto doc = parse(p, rec.finish(0, 10, "failed", "connection refused"));
    CHECK(doc["response"]["status"].get_int64().value() == 0);
    CHECK(doc["outcome"].get_string().value() == "failed");
    CHECK(doc["error"].get_string().value() == "connection refused");
  }
  {
    ExchangeRecord rec(&r, "POST", "/x", {}, {}, 0, 16);
    rec.on_header_line("HTTP/1.1 200 OK\r\n");
    rec.on_header_line("Content-Type: text/event-stream\r\n");
    rec.on_body("data: {\"a\":1}\n\n", 1);
    rec.on_body("data: {\"b\":2}\n\n", 2);  // over the 16-byte budget
    auto doc = parse(p, rec.finish(200, 3, "complete", {}));
    CHECK(doc["truncated"].get_bool().value());
    CHECK(doc["response"]["events"].get_array().value().size() == 1);
  }
}

TEST_CASE("exchange record: url_path") {
  CHECK(url_path("https://chat.qwen.ai/api/models") == "/api/models");
  CHECK(url_path("http://h:1/a?b=c") == "/a?b=c");
  CHECK(url_path("http://h") == "/");
  CHECK(url_path("/p") == "/p");
}
