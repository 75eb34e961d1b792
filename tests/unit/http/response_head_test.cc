#include "common/http/response_head.h"

#include <string>

#include <catch2/catch.hpp>

using qp::http::ConnectionHeader;
using qp::http::Framing;
using qp::http::Headers;
using qp::http::HeadSpec;

namespace {

std::string head(const HeadSpec& spec, const Headers& headers, const Headers& defaults = {}) {
  std::string out;
  qp::http::append_response_head(&out, spec, headers, defaults);
  return out;
}

}  // namespace

TEST_CASE("response head with Content-Length", "[http][head]") {
  HeadSpec spec;
  spec.status = 200;
  spec.framing = Framing::kContentLength;
  spec.content_length = 42;
  CHECK(head(spec, {{"Content-Type", "application/json"}}) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n");
}

TEST_CASE("response head for a chunked stream that closes", "[http][head]") {
  HeadSpec spec;
  spec.status = 200;
  spec.framing = Framing::kChunked;
  spec.connection = ConnectionHeader::kClose;
  CHECK(head(spec, {}) ==
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
}

TEST_CASE("response head keep-alive for HTTP/1.0 and no framing", "[http][head]") {
  HeadSpec spec;
  spec.status = 204;
  spec.framing = Framing::kNone;
  spec.connection = ConnectionHeader::kKeepAlive;
  CHECK(head(spec, {}) == "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
}

TEST_CASE("response head drops framing headers and CR/LF injection", "[http][head]") {
  HeadSpec spec;
  spec.status = 404;
  spec.content_length = 0;
  Headers headers{{"content-length", "999"}, {"Transfer-Encoding", "gzip"},
                  {"Connection", "close"},   {"X-Bad", "a\r\nSet-Cookie: x"},
                  {"X-Bad\n", "v"},          {"", "v"},
                  {"X-Ok", "fine"}};
  CHECK(head(spec, headers) == "HTTP/1.1 404 Not Found\r\nX-Ok: fine\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("response head adds default headers unless overridden", "[http][head]") {
  HeadSpec spec;
  spec.status = 413;
  spec.content_length = 2;
  Headers defaults{{"Server", "qwenproxy"}, {"X-Default", "d"}};
  CHECK(head(spec, {{"x-default", "mine"}}, defaults) ==
        "HTTP/1.1 413 Payload Too Large\r\nx-default: mine\r\nServer: qwenproxy\r\n"
        "Content-Length: 2\r\n\r\n");
}

TEST_CASE("reason phrases", "[http][head]") {
  CHECK(qp::http::reason_phrase(200) == "OK");
  CHECK(qp::http::reason_phrase(400) == "Bad Request");
  CHECK(qp::http::reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(qp::http::reason_phrase(503) == "Service Unavailable");
  CHECK(qp::http::reason_phrase(299) == "Unknown");
}

TEST_CASE("an out-of-range status becomes 500", "[http][head]") {
  HeadSpec spec;
  spec.status = 42;
  CHECK(head(spec, {}).rfind("HTTP/1.1 500 Internal Server Error\r\n", 0) == 0);
}

TEST_CASE("status_allows_body", "[http][head]") {
  CHECK(qp::http::status_allows_body(200));
  CHECK(qp::http::status_allows_body(500));
  CHECK_FALSE(qp::http::status_allows_body(100));
  CHECK_FALSE(qp::http::status_allows_body(204));
  CHECK_FALSE(qp::http::status_allows_body(304));
}

TEST_CASE("asks_to_close", "[http][head]") {
  CHECK(qp::http::asks_to_close({{"Connection", "Close"}}));
  CHECK_FALSE(qp::http::asks_to_close({{"Connection", "keep-alive"}}));
  CHECK_FALSE(qp::http::asks_to_close({}));
}

TEST_CASE("chunk size lines are lower-case hex", "[http][head]") {
  char buf[qp::http::kChunkSizeLineMax];
  auto line = [&](size_t n) {
    size_t len = qp::http::format_chunk_size_line(n, buf);
    return std::string(buf, len);
  };
  CHECK(line(0) == "0\r\n");
  CHECK(line(10) == "a\r\n");
  CHECK(line(255) == "ff\r\n");
  CHECK(line(0x10000) == "10000\r\n");
  CHECK(line(SIZE_MAX) == "ffffffffffffffff\r\n");
}

TEST_CASE("default error body is OpenAI-shaped JSON", "[http][head]") {
  CHECK(qp::http::default_error_body(400, "bad \"thing\"") ==
        R"({"error":{"message":"bad \"thing\"","type":"invalid_request_error"}})");
  CHECK(qp::http::default_error_body(503, "busy") ==
        R"({"error":{"message":"busy","type":"server_error"}})");
  // 505: the client spoke an HTTP version we do not; its error, not ours.
  CHECK(qp::http::default_error_body(505, "HTTP version not supported") ==
        R"({"error":{"message":"HTTP version not supported","type":"invalid_request_error"}})");
}
