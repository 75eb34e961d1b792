#include "common/http/request_parser.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using qp::http::Request;
using qp::http::RequestParser;
using Event = RequestParser::Event;

namespace {

constexpr size_t kMaxHeader = 4096;
constexpr size_t kMaxBody = 1024;

// Feeds all of `input` in pieces of `piece` bytes; collects requests until an error.
struct Collected {
  std::vector<Request> requests;
  int error = 0;
};

Collected feed_all(RequestParser& p, std::string_view input, size_t piece = 0) {
  Collected out;
  if (piece == 0) piece = input.size();
  size_t pos = 0;
  while (pos < input.size() && out.error == 0) {
    std::string_view slice = input.substr(pos, piece);
    size_t off = 0;
    while (off < slice.size()) {
      auto step = p.feed(slice.substr(off));
      off += step.consumed;
      if (step.event == Event::kRequest) {
        out.requests.push_back(p.take_request());
      } else if (step.event == Event::kError) {
        out.error = p.error_status();
        break;
      } else if (step.consumed == 0) {
        break;
      }
    }
    pos += slice.size();
  }
  return out;
}

Collected parse(std::string_view input, size_t piece = 0, size_t max_body = kMaxBody) {
  RequestParser p(kMaxHeader, max_body);
  return feed_all(p, input, piece);
}

}  // namespace

TEST_CASE("parser reads a GET with lower-cased headers", "[http][parser]") {
  const std::string input =
      "GET /v1/models?x=1&y=two HTTP/1.1\r\n"
      "Host: example\r\n"
      "X-Custom-Header: Some Value  \r\n"
      "\r\n";
  for (size_t piece : {size_t{0}, size_t{1}, size_t{7}}) {
    DYNAMIC_SECTION("piece size " << piece) {
      auto c = parse(input, piece);
      REQUIRE(c.error == 0);
      REQUIRE(c.requests.size() == 1);
      const Request& r = c.requests[0];
      CHECK(r.method == "GET");
      CHECK(r.target == "/v1/models?x=1&y=two");
      CHECK(r.path == "/v1/models");
      CHECK(r.query == "x=1&y=two");
      CHECK(r.query_param("x") == "1");
      CHECK(r.query_param("y") == "two");
      CHECK(r.query_param("z").empty());
      REQUIRE(r.headers.size() == 2);
      CHECK(r.headers[0].name == "host");
      CHECK(r.headers[1].name == "x-custom-header");
      REQUIRE(r.header("x-custom-header") != nullptr);
      CHECK(*r.header("x-custom-header") == "Some Value");  // trailing blanks trimmed
      CHECK(r.header("missing") == nullptr);
      CHECK(r.keep_alive);
      CHECK(r.http_major == 1);
      CHECK(r.http_minor == 1);
      CHECK(r.body.empty());
    }
  }
}

TEST_CASE("parser keeps an empty header value apart from the next header", "[http][parser]") {
  auto c = parse("GET / HTTP/1.1\r\nX-Empty:\r\nX-Next: v\r\n\r\n", 1);
  REQUIRE(c.requests.size() == 1);
  const Request& r = c.requests[0];
  REQUIRE(r.headers.size() == 2);
  CHECK(r.headers[0].name == "x-empty");
  CHECK(r.headers[0].value.empty());
  CHECK(r.headers[1].name == "x-next");
  CHECK(r.headers[1].value == "v");
}

TEST_CASE("parser stops after each pipelined request", "[http][parser]") {
  const std::string a = "GET /a HTTP/1.1\r\n\r\n";
  const std::string b = "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string c = "GET /c HTTP/1.1\r\n\r\n";
  const std::string all = a + b + c;
  RequestParser p(kMaxHeader, kMaxBody);
  auto s1 = p.feed(all);
  REQUIRE(s1.event == Event::kRequest);
  CHECK(s1.consumed == a.size());
  CHECK(p.take_request().path == "/a");
  auto s2 = p.feed(std::string_view(all).substr(a.size()));
  REQUIRE(s2.event == Event::kRequest);
  CHECK(s2.consumed == b.size());
  Request rb = p.take_request();
  CHECK(rb.path == "/b");
  CHECK(rb.body == "xyz");
  auto s3 = p.feed(std::string_view(all).substr(a.size() + b.size()));
  REQUIRE(s3.event == Event::kRequest);
  CHECK(s3.consumed == c.size());
  CHECK(p.take_request().path == "/c");
  CHECK_FALSE(p.mid_request());
}

TEST_CASE("parser de-chunks a chunked body and ignores trailers", "[http][parser]") {
  const std::string input =
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
      "GET /next HTTP/1.1\r\n\r\n";
  for (size_t piece : {size_t{0}, size_t{1}, size_t{5}}) {
    DYNAMIC_SECTION("piece size " << piece) {
      auto c = parse(input, piece);
      REQUIRE(c.error == 0);
      REQUIRE(c.requests.size() == 2);
      CHECK(c.requests[0].body == "hello world");
      CHECK(c.requests[0].header("x-trailer") == nullptr);
      CHECK(c.requests[1].path == "/next");
    }
  }
}

TEST_CASE("parser applies HTTP/1.0 and HTTP/1.1 keep-alive rules", "[http][parser]") {
  SECTION("1.0 closes by default") {
    auto c = parse("GET / HTTP/1.0\r\n\r\n");
    REQUIRE(c.requests.size() == 1);
    CHECK_FALSE(c.requests[0].keep_alive);
    CHECK(c.requests[0].http_minor == 0);
  }
  SECTION("1.0 with keep-alive") {
    auto c = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    REQUIRE(c.requests.size() == 1);
    CHECK(c.requests[0].keep_alive);
  }
  SECTION("1.1 with close") {
    auto c = parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    REQUIRE(c.requests.size() == 1);
    CHECK_FALSE(c.requests[0].keep_alive);
  }
}

TEST_CASE("parser ignores bytes after a request that closes the connection", "[http][parser]") {
  RequestParser p(kMaxHeader, kMaxBody);
  auto c = feed_all(p, "GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  CHECK(c.error == 0);
  REQUIRE(c.requests.size() == 1);
  CHECK(p.finished());
  auto step = p.feed("garbage");
  CHECK(step.event == Event::kNeedMore);
  CHECK(step.consumed == 7);
}

TEST_CASE("parser treats an upgrade request as the last one", "[http][parser]") {
  RequestParser p(kMaxHeader, kMaxBody);
  auto c = feed_all(p, "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  REQUIRE(c.requests.size() == 1);
  CHECK_FALSE(c.requests[0].keep_alive);
  CHECK(p.finished());
}

TEST_CASE("parser enforces the header limit with 431", "[http][parser]") {
  SECTION("long header value") {
    auto c = parse("GET / HTTP/1.1\r\nX-Big: " + std::string(kMaxHeader, 'a') + "\r\n\r\n", 100);
    CHECK(c.error == 431);
  }
  SECTION("long target") {
    auto c = parse("GET /" + std::string(kMaxHeader, 'a') + " HTTP/1.1\r\n\r\n");
    CHECK(c.error == 431);
  }
  SECTION("many empty headers") {
    std::string many;
    for (size_t i = 0; i < kMaxHeader / 4; ++i) many += "a:\r\n";
    auto c = parse("GET / HTTP/1.1\r\n" + many + "\r\n");
    CHECK(c.error == 431);
  }
  SECTION("just under the limit passes") {
    auto c = parse("GET / HTTP/1.1\r\nX-Big: " + std::string(kMaxHeader / 2, 'a') + "\r\n\r\n");
    CHECK(c.error == 0);
    CHECK(c.requests.size() == 1);
  }
}

TEST_CASE("parser enforces the body limit with 413", "[http][parser]") {
  SECTION("declared Content-Length over the limit fails at the end of the headers") {
    RequestParser p(kMaxHeader, kMaxBody);
    auto step = p.feed("POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n");
    CHECK(step.event == Event::kError);
    CHECK(p.error_status() == 413);
    CHECK(p.finished());
  }
  SECTION("Content-Length at the limit passes") {
    auto c = parse("POST / HTTP/1.1\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'b'));
    CHECK(c.error == 0);
    REQUIRE(c.requests.size() == 1);
    CHECK(c.requests[0].body.size() == 1024);
  }
  SECTION("one big chunk is refused at its size line") {
    RequestParser p(kMaxHeader, kMaxBody);
    auto step = p.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n");
    CHECK(step.event == Event::kError);
    CHECK(p.error_status() == 413);
  }
  SECTION("many small chunks cross the limit") {
    std::string body;
    for (int i = 0; i < 200; ++i) body += "8\r\n12345678\r\n";
    auto c = parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n", 3);
    CHECK(c.error == 413);
    CHECK(c.requests.empty());
  }
}

TEST_CASE("parser reports malformed input as 400", "[http][parser]") {
  SECTION("garbage") { CHECK(parse("\x01\x02 nonsense\r\n\r\n").error == 400); }
  SECTION("bad header token") {
    CHECK(parse("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n").error == 400);
  }
  SECTION("bad chunk size") {
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").error == 400);
  }
  SECTION("Content-Length together with chunked") {
    CHECK(
        parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").error ==
        400);
  }
  SECTION("bad Content-Length") {
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").error == 400);
  }
  SECTION("the message does not leak request bytes") {
    RequestParser p(kMaxHeader, kMaxBody);
    p.feed("GET / HTTP/1.1\r\nAuthorization: Bearer sk-secret\r\nBad Header: x\r\n\r\n");
    CHECK(p.error_status() == 400);
    CHECK(p.error_message().find("sk-secret") == std::string::npos);
  }
}

TEST_CASE("parser rejects HTTP versions other than 1.x with 505", "[http][parser]") {
  CHECK(parse("GET / HTTP/2.0\r\n\r\n").error == 505);
}

TEST_CASE("parser reports when a 100 Continue is wanted", "[http][parser]") {
  RequestParser p(kMaxHeader, kMaxBody);
  CHECK_FALSE(p.wants_continue());
  auto s = p.feed("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
  CHECK(s.event == Event::kNeedMore);
  CHECK(p.mid_request());
  CHECK(p.wants_continue());
  SECTION("until marked as sent") {
    p.continue_sent();
    CHECK_FALSE(p.wants_continue());
  }
  SECTION("until the body starts") {
    p.feed("he");
    CHECK_FALSE(p.wants_continue());
    auto s2 = p.feed("llo");
    REQUIRE(s2.event == Event::kRequest);
    CHECK(p.take_request().body == "hello");
  }
  SECTION("not for a request without Expect") {
    p.continue_sent();
    p.feed("hello");
    p.take_request();
    p.feed("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
    CHECK_FALSE(p.wants_continue());
  }
}

TEST_CASE("parser splits absolute-form targets", "[http][parser]") {
  auto c = parse("GET http://example.com:8080/v1/models?a=b HTTP/1.1\r\n\r\n");
  REQUIRE(c.requests.size() == 1);
  CHECK(c.requests[0].path == "/v1/models");
  CHECK(c.requests[0].query == "a=b");
}

TEST_CASE("parser drops the fragment from path and query", "[http][parser]") {
  auto c = parse("GET /p?q=1#frag HTTP/1.1\r\n\r\n");
  REQUIRE(c.requests.size() == 1);
  CHECK(c.requests[0].path == "/p");
  CHECK(c.requests[0].query == "q=1");
}

TEST_CASE("query_param handles keys without values", "[http][parser]") {
  Request r;
  r.query = "a=1&b=&c&dd=4";
  CHECK(r.query_param("a") == "1");
  CHECK(r.query_param("b").empty());
  CHECK(r.query_param("c").empty());
  CHECK(r.query_param("d").empty());
  CHECK(r.query_param("dd") == "4");
}

TEST_CASE("parser reserves a declared body before its first byte", "[http][parser][limits]") {
  qp::http::BodyBudget budget(100);
  RequestParser p(kMaxHeader, kMaxBody);
  p.set_body_budget(&budget);
  auto step = p.feed("POST / HTTP/1.1\r\nContent-Length: 60\r\n\r\n");
  CHECK(step.event == Event::kNeedMore);
  CHECK(p.in_body());
  CHECK(p.declared_body_bytes() == 60);
  CHECK(budget.used() == 60);
  CHECK(p.reserved_body_bytes() == 60);
  // A second parser cannot reserve past the limit: 503 before any body byte.
  RequestParser q(kMaxHeader, kMaxBody);
  q.set_body_budget(&budget);
  auto refused = q.feed("POST / HTTP/1.1\r\nContent-Length: 41\r\n\r\n");
  CHECK(refused.event == Event::kError);
  CHECK(q.error_status() == 503);
  CHECK(budget.used() == 60);
  // The completed request carries the reservation out of the parser.
  step = p.feed(std::string(60, 'x'));
  REQUIRE(step.event == Event::kRequest);
  Request r = p.take_request();
  CHECK(r.body.size() == 60);
  CHECK(p.reserved_body_bytes() == 0);
  CHECK(budget.used() == 60);  // now the caller's, released when it is done
  budget.release(r.body.size());
  CHECK(budget.used() == 0);
}

TEST_CASE("parser reserves chunks as they are announced and releases on errors",
          "[http][parser][limits]") {
  qp::http::BodyBudget budget(100);
  RequestParser p(kMaxHeader, kMaxBody);
  p.set_body_budget(&budget);
  p.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n");
  CHECK(p.declared_body_bytes() == RequestParser::kUnknownLength);
  CHECK(budget.used() == 32);
  auto bad = p.feed(std::string(32, 'a') + "\r\nnot-hex\r\n");
  CHECK(bad.event == Event::kError);
  CHECK(p.error_status() == 400);
  CHECK(budget.used() == 0);
  // An explicit release (the connection closing) gives it back too.
  RequestParser q(kMaxHeader, kMaxBody);
  q.set_body_budget(&budget);
  q.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  CHECK(budget.used() == 10);
  q.release_body_reservation();
  q.release_body_reservation();  // idempotent
  CHECK(budget.used() == 0);
}
