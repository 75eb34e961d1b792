#include "worker/upstream_errors.h"

#include <string>

#include <catch2/catch.hpp>

#include "common/protocol/messages.h"

using qp::Code;
using qp::worker::classify_response;
using qp::worker::classify_transport;
using qp::worker::has_waf_marker;
using qp::worker::is_error_json;
using qp::worker::TransportFailure;

namespace {
constexpr const char* kJson = "application/json";
std::string_view health(const qp::worker::UpstreamFailure& f) {
  return f.health == nullptr ? std::string_view("unchanged") : std::string_view(f.health);
}
}  // namespace

TEST_CASE("errors: RateLimited envelope (HTTP 200 JSON)", "[errors]") {
  auto f = classify_response(
      200, kJson,
      R"({"success":false,"request_id":"r","data":{"code":"RateLimited","details":"You've reached the upper limit for today's usage.","template":"You have reached the daily usage limit. Please wait {{num}} hours before trying again.","num":6}})");
  CHECK(f.code == Code::kRateLimited);
  CHECK(f.retry_after_s == 6 * 3600);
  CHECK(health(f) == qp::protocol::kHealthRateLimited);
  CHECK_THAT(f.message, Catch::Contains("upper limit for today's usage"));
  CHECK_THAT(f.message, Catch::Contains("6 h"));
}

TEST_CASE("errors: RateLimited with HTTP 429 and without num", "[errors]") {
  auto f = classify_response(429, kJson, R"({"success":false,"data":{"code":"RateLimited"}})");
  CHECK(f.code == Code::kRateLimited);
  CHECK(f.retry_after_s == 24 * 3600);
}

TEST_CASE("errors: un-enveloped code with detail", "[errors]") {
  auto f = classify_response(200, kJson, R"({"code":"RateLimited","detail":"wait","num":"3"})");
  CHECK(f.code == Code::kRateLimited);
  CHECK(f.retry_after_s == 3 * 3600);
}

TEST_CASE("errors: Unauthorized / 401 / Token has expired", "[errors]") {
  auto a = classify_response(
      401, kJson,
      R"({"success":false,"request_id":"r","data":{"code":"Unauthorized","details":"Token has expired"}})");
  CHECK(a.code == Code::kUpstreamAuth);
  CHECK(health(a) == qp::protocol::kHealthCredentialsInvalid);
  CHECK_THAT(a.message, Catch::Contains("Token has expired"));

  auto b = classify_response(200, kJson, R"({"success":false,"data":{"code":"Unauthorized"}})");
  CHECK(b.code == Code::kUpstreamAuth);

  auto c = classify_response(401, "text/plain", "nope");
  CHECK(c.code == Code::kUpstreamAuth);

  auto d = classify_response(403, "text/plain", "Token has expired");
  CHECK(d.code == Code::kUpstreamAuth);
}

TEST_CASE("errors: Bad_Request variants are upstream errors with their details", "[errors]") {
  for (const char* details : {"Internal error", "Invalid input too many messages.",
                              "Invalid input chat parent_id abc is not exist.",
                              "Model not found: qwen9", "Content security warning"}) {
    std::string body =
        std::string(
            R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":")") +
        details + "\"}}";
    auto f = classify_response(200, kJson, body);
    INFO(details);
    CHECK(f.code == Code::kUpstream);
    CHECK(f.health == nullptr);
    CHECK_THAT(f.message, Catch::Contains(details));
    CHECK_THAT(f.message, Catch::Contains("Bad_Request"));
  }
  auto busy = classify_response(
      200, kJson,
      R"({"success":false,"data":{"code":"Bad_Request","details":"The chat is in progress!"}})");
  CHECK(busy.code == Code::kUpstream);
  CHECK_THAT(busy.message, Catch::Contains("busy"));
}

TEST_CASE("errors: model-side error objects", "[errors]") {
  auto quota = classify_response(
      200, kJson,
      R"({"error":{"code":"Throttling","message":"Allocated quota exceeded, please increase your quota limit. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#token-limit"}})");
  CHECK(quota.code == Code::kRateLimited);
  CHECK(quota.health == nullptr);
  auto other = classify_response(200, kJson, R"({"error":{"message":"The chat is in progress!"}})");
  CHECK(other.code == Code::kUpstream);
  auto legacy =
      classify_response(400, kJson, R"({"error":{"message":"The chat is in progress!"}})");
  CHECK(legacy.code == Code::kUpstream);
  CHECK_THAT(legacy.message, Catch::Contains("in progress"));
  auto nested =
      classify_response(200, kJson, R"({"data":{"error":{"code":"x","message":"overloaded"}}})");
  CHECK(nested.code == Code::kUpstream);
  CHECK_THAT(nested.message, Catch::Contains("overloaded"));
}

TEST_CASE("errors: WAF punish JSON (form a) at HTTP 200", "[errors]") {
  const char* body =
      R"({"ret":["FAIL_SYS_USER_VALIDATE","RGV587_ERROR::SM::哎哟喂,被挤爆啦,请稍后重试"],"data":{"url":"https://chat.qwen.ai:443//api/v2/chat/completions/_____tmd_____/punish?x5secdata=xyz__bx__chat.qwen.ai:443/api/v2/chat/completions&x5step=2&action=captcha&pureCaptcha="}})";
  auto f = classify_response(200, kJson, body);
  CHECK(f.code == Code::kUpstream);
  CHECK(health(f) == qp::protocol::kHealthNeedsVerification);
  CHECK_THAT(f.message, Catch::Contains("human verification"));
  CHECK(has_waf_marker(body));
}

TEST_CASE("errors: WAF HTML page (form b) at HTTP 403", "[errors]") {
  const char* body =
      "<!DOCTYPE html><html><head><title>Verification</title></head><body>"
      "<div id=\"aliyun_waf_aa\"></div><script src=\"/punish?x=1\"></script>"
      "<p>Please complete the CAPTCHA</p></body></html>";
  auto f = classify_response(403, "text/html; charset=utf-8", body);
  CHECK(f.code == Code::kUpstream);
  CHECK(health(f) == qp::protocol::kHealthNeedsVerification);
  // Also at status 200 and with any single marker, case-insensitively.
  CHECK(classify_response(200, "text/html", "<html>ALIYUN_WAF</html>").health ==
        std::string_view(qp::protocol::kHealthNeedsVerification));
  CHECK(has_waf_marker("请完成人机验证"));
  CHECK_FALSE(has_waf_marker(R"({"success":false,"data":{"code":"RateLimited"}})"));
}

TEST_CASE("errors: other statuses and bodies", "[errors]") {
  auto s502 = classify_response(502, "text/html", "<html>Bad Gateway</html>");
  CHECK(s502.code == Code::kUpstream);
  CHECK_THAT(s502.message, Catch::Contains("HTTP 502"));
  CHECK(s502.health == nullptr);

  auto s429 = classify_response(429, "text/plain", "slow down");
  CHECK(s429.code == Code::kRateLimited);

  auto nonstream = classify_response(
      200, kJson, R"({"success":true,"data":{"choices":[{"message":{"content":"hi"}}]}})");
  CHECK(nonstream.code == Code::kUpstream);
  CHECK_THAT(nonstream.message, Catch::Contains("instead of an event stream"));

  auto garbage = classify_response(200, "text/plain", "hello");
  CHECK(garbage.code == Code::kUpstream);
  CHECK_THAT(garbage.message, Catch::Contains("unexpected response body"));
}

TEST_CASE("errors: messages never carry tokens and stay bounded", "[errors]") {
  std::string jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IngiLCJleHAiOjF9.c2lnbmF0dXJl";
  auto f = classify_response(
      200, kJson,
      R"({"success":false,"data":{"code":"Bad_Request","details":"bad token )" + jwt + "\"}}");
  CHECK(f.message.find(jwt) == std::string::npos);
  std::string huge(5000, 'x');
  auto g = classify_response(
      200, kJson, R"({"success":false,"data":{"code":"Bad_Request","details":")" + huge + "\"}}");
  CHECK(g.message.size() < 600);
}

TEST_CASE("errors: is_error_json", "[errors]") {
  CHECK(is_error_json(R"({"success":false})"));
  CHECK(is_error_json(R"({"error":{"message":"x"}})"));
  CHECK(is_error_json(R"({"code":"X"})"));
  CHECK_FALSE(is_error_json(R"({"success":true,"data":{"id":"x"}})"));
  CHECK_FALSE(is_error_json(R"({"data":[]})"));
  CHECK_FALSE(is_error_json("not json"));
}

TEST_CASE("errors: transport failures", "[errors]") {
  auto c =
      classify_transport(TransportFailure::kConnect, 0, "Failed to connect to 127.0.0.1 port 9");
  CHECK(c.code == Code::kUpstream);
  CHECK(health(c) == qp::protocol::kHealthUnreachable);
  CHECK_THAT(c.message, Catch::Contains("cannot reach Qwen"));

  auto ct = classify_transport(TransportFailure::kConnectTimeout, 1500, "");
  CHECK(ct.code == Code::kUpstreamTimeout);
  CHECK(health(ct) == qp::protocol::kHealthUnreachable);
  CHECK_THAT(ct.message, Catch::Contains("1500 ms"));

  auto fb = classify_transport(TransportFailure::kFirstByteTimeout, 60000, "");
  CHECK(fb.code == Code::kUpstreamTimeout);
  CHECK(fb.health == nullptr);
  CHECK_THAT(fb.message, Catch::Contains("first-byte timeout"));

  auto idle = classify_transport(TransportFailure::kIdleTimeout, 30000, "");
  CHECK(idle.code == Code::kUpstreamTimeout);
  CHECK_THAT(idle.message, Catch::Contains("idle timeout"));

  auto drop = classify_transport(TransportFailure::kDropped, 0, "Recv failure");
  CHECK(drop.code == Code::kUpstream);
  CHECK(drop.health == nullptr);

  auto early = qp::worker::stream_ended_early();
  CHECK(early.code == Code::kUpstream);
  CHECK_THAT(early.message, Catch::Contains("ended before the answer finished"));
}

#include "worker/worker_metrics.h"

TEST_CASE("errors: metric classes of real failures", "[errors][metrics]") {
  using qp::worker::TransportFailure;
  using qp::worker::upstream_error_class;
  CHECK(std::string(upstream_error_class(
            classify_response(
                200, "application/json",
                R"({"success":false,"data":{"code":"RateLimited","details":"x","num":2}})"),
            false)) == "rate_limit");
  CHECK(std::string(upstream_error_class(
            classify_response(
                200, "application/json",
                R"({"success":false,"data":{"code":"Bad_Request","details":"Internal error"}})"),
            false)) == "internal");
  CHECK(std::string(upstream_error_class(
            classify_response(401, "application/json", R"({"code":"Unauthorized"})"), false)) ==
        "credentials");
  CHECK(std::string(upstream_error_class(
            classify_response(200, "text/html", "<html>punish baxia captcha</html>"), false)) ==
        "waf");
  CHECK(std::string(upstream_error_class(classify_transport(TransportFailure::kConnect, 0, ""),
                                         true)) == "transport");
  CHECK(std::string(upstream_error_class(classify_transport(TransportFailure::kDropped, 0, ""),
                                         true)) == "transport");
  CHECK(std::string(upstream_error_class(
            classify_transport(TransportFailure::kFirstByteTimeout, 100, ""), true)) == "timeout");
  CHECK(std::string(upstream_error_class(qp::worker::stream_ended_early(), false)) == "internal");
}
