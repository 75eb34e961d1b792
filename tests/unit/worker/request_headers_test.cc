// The account's header lines formatted once and shared (qwen_requests.h
// header_template(), QwenClient::make_lean_spec()): the lines on the wire are
// exactly build_headers()' for every endpoint, and a credential rotation
// formats them again without touching the requests already made.
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "worker/curl_multi.h"
#include "worker/deferred_delete.h"
#include "worker/qwen_client.h"
#include "worker/qwen_requests.h"

using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

namespace {

constexpr Endpoint kAll[] = {Endpoint::kModels,         Endpoint::kModelsV2, Endpoint::kNewChat,
                             Endpoint::kCompletion,     Endpoint::kStop,     Endpoint::kDeleteChat,
                             Endpoint::kTaskStatus,     Endpoint::kSts,      Endpoint::kFileParse,
                             Endpoint::kFileParseStatus};
static_assert(std::size(kAll) == kEndpointCount);

// The lines with the two that differ per call (x-request-id, timezone) named only.
std::vector<std::string> stable(std::vector<std::string> lines) {
  for (auto& l : lines) {
    for (std::string_view name : {"x-request-id: ", "timezone: "}) {
      if (l.rfind(name, 0) == 0) l = name;
    }
  }
  return lines;
}

}  // namespace

TEST_CASE("headers: the template's slots filled in order give build_headers()", "[requests]") {
  HeaderParams p;
  p.base_url = "https://chat.qwen.ai";
  p.user_agent = "UA/1.0";
  p.jwt = "eyJ.x.y";
  p.bx_ua = "ua\r\nX-Evil: 1";
  p.chat_id = "c\n1";
  p.request_uuid = "u-1";
  p.timezone = "tz";
  for (Endpoint e : kAll) {
    HeaderTemplate t = header_template(e, p);
    size_t slots = 0;
    for (const auto& l : *t.lines) slots += l.empty() ? 1 : 0;
    CHECK(slots == kRequestHeaderSlots);
    auto request = request_headers(t, p.chat_id, p.request_uuid, p.timezone);
    REQUIRE(request.size() == kRequestHeaderSlots);
    CHECK(request[1] == "x-request-id: u-1");
    CHECK(request[2] == "timezone: tz");
    CHECK(fill_header_slots(*t.lines, request) == build_headers(e, p));
  }
  HeaderTemplate c = header_template(Endpoint::kCompletion, p);
  auto lines = fill_header_slots(*c.lines, request_headers(c, p.chat_id, "u", "tz"));
  const std::vector<std::string> want = {"Accept: text/event-stream",
                                         "Accept-Language: en-US,en;q=0.9",
                                         "Accept-Encoding: identity",
                                         "Content-Type: application/json",
                                         "User-Agent: UA/1.0",
                                         "Origin: https://chat.qwen.ai",
                                         "Referer: https://chat.qwen.ai/c/c1",
                                         "Sec-Fetch-Dest: empty",
                                         "Sec-Fetch-Mode: cors",
                                         "Sec-Fetch-Site: same-origin",
                                         "source: web",
                                         "version: 0.2.68",
                                         "x-request-id: u",
                                         "timezone: tz",
                                         "x-accel-buffering: no",
                                         "Authorization: Bearer eyJ.x.y",
                                         "bx-ua: uaX-Evil: 1",
                                         "Expect:"};
  CHECK(lines == want);
}

TEST_CASE("headers: lean and whole specs carry the same lines; rotation reformats",
          "[requests][client]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    qp::UpstreamConfig upstream;
    upstream.base_url = "http://127.0.0.1:9";
    qp::AccountConfig account;
    account.name = "acct";
    account.token = "jwt-1";
    account.bx_umidtoken = "umid";
    CurlMulti multi(&loop);
    REQUIRE(multi.init().ok());
    DeferredDelete deferred(&loop);
    {
      QwenClient client(&multi, &deferred, upstream, account);
      for (Endpoint e : kAll) {
        HttpRequestSpec whole = client.make_spec(e, "chat-1", "{}");
        HttpRequestSpec lean = client.make_lean_spec(e, "chat-1", "{}");
        CHECK_FALSE(whole.shared_headers);
        REQUIRE(lean.shared_headers);
        CHECK(lean.headers.size() == kRequestHeaderSlots);
        CHECK(stable(fill_header_slots(*lean.shared_headers, lean.headers)) ==
              stable(whole.headers));
        CHECK(lean.url == whole.url);
        CHECK(lean.post == whole.post);
        CHECK(lean.stream == whole.stream);
        CHECK(lean.cookies == whole.cookies);
      }
      // Shared: the second request of an endpoint reuses the first one's lines.
      HttpRequestSpec a = client.make_lean_spec(Endpoint::kCompletion, "c", "{}");
      HttpRequestSpec b = client.make_lean_spec(Endpoint::kCompletion, "d", "{}");
      CHECK(a.shared_headers == b.shared_headers);
      CHECK(a.headers[1] != b.headers[1]);  // a fresh x-request-id each
      CHECK(b.headers[0] == "Referer: http://127.0.0.1:9/c/d");

      account.token = "jwt-2";
      client.set_credentials(account);
      HttpRequestSpec c = client.make_lean_spec(Endpoint::kCompletion, "c", "{}");
      CHECK(c.shared_headers != a.shared_headers);
      auto has = [](const std::vector<std::string>& lines, std::string_view line) {
        for (const auto& l : lines) {
          if (l == line) return true;
        }
        return false;
      };
      CHECK(has(*c.shared_headers, "Authorization: Bearer jwt-2"));
      CHECK(has(*a.shared_headers, "Authorization: Bearer jwt-1"));  // made before: unchanged
    }
    multi.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
