// The document parse step's policy (worker/file_parse.h): the request
// bodies, every answer shape peers saw (ready, pending, the outage
// envelopes, the WAF captcha page, failed statuses) and the poll limit.
#include "worker/file_parse.h"

#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "common/protocol/messages.h"
#include "worker/qwen_requests.h"

using namespace qp::worker;

namespace {

constexpr const char* kJson = "application/json";

std::string status_answer(std::string_view id, std::string_view status) {
  return R"({"success":true,"request_id":"r","data":[{"file_id":")" + std::string(id) +
         R"(","status":")" + std::string(status) + R"("}]})";
}

// A WAF challenge page of the size peers met (16 KiB of HTML, HTTP 200).
std::string waf_page() {
  std::string page = "<!DOCTYPE html><html><head><title>aliyun_waf_captcha</title>";
  while (page.size() < 16 * 1024) page += "<script>/* challenge */</script>";
  return page + "</head><body></body></html>";
}

}  // namespace

TEST_CASE("parse step: which items, request bodies and URLs", "[file_parse]") {
  CHECK(needs_parse("file"));
  CHECK_FALSE(needs_parse("image"));
  CHECK(parse_body("f-1") == R"({"file_id":"f-1"})");
  CHECK(parse_status_body("f-1") == R"({"file_id_list":["f-1"]})");
  CHECK(parse_body("a\"b") == R"({"file_id":"a\"b"})");  // escaped, whatever the id holds
  CHECK(endpoint_url(Endpoint::kFileParse, "https://chat.qwen.ai") ==
        "https://chat.qwen.ai/api/v2/files/parse");
  CHECK(endpoint_url(Endpoint::kFileParseStatus, "https://chat.qwen.ai") ==
        "https://chat.qwen.ai/api/v2/files/parse/status");
  HeaderParams hp;
  hp.base_url = "https://chat.qwen.ai";
  hp.jwt = "tok";
  auto h = build_headers(Endpoint::kFileParseStatus, hp);
  CHECK(std::find(h.begin(), h.end(), "Content-Type: application/json") != h.end());
  CHECK(std::find(h.begin(), h.end(), "Authorization: Bearer tok") != h.end());
}

TEST_CASE("parse answer: accepted, outage, WAF page, auth", "[file_parse]") {
  ParseAnswer ok = read_parse_answer(
      200, kJson, R"({"success":true,"request_id":"r","data":{"file_id":"f","status":"parsing"}})");
  CHECK(ok.state == ParseState::kPending);
  CHECK_FALSE(ok.failure);
  CHECK(read_parse_answer(200, kJson, R"({"success":true})").state == ParseState::kPending);

  // Peers' live outage: success true, but data carries an error code.
  ParseAnswer outage =
      read_parse_answer(200, kJson, R"({"success":true,"data":{"code":"Internal_Server_Error"}})");
  REQUIRE(outage.state == ParseState::kFailed);
  CHECK(outage.failure->code == qp::Code::kUpstream);
  CHECK(outage.failure->health == nullptr);  // not the account's fault
  CHECK(outage.failure->message.find("Internal_Server_Error") != std::string::npos);
  CHECK(outage.failure->message.find("parse service looks down") != std::string::npos);

  // The 16 KiB aliyun_waf_captcha page with HTTP 200: the account needs verification.
  ParseAnswer waf = read_parse_answer(200, "text/html; charset=utf-8", waf_page());
  REQUIRE(waf.state == ParseState::kFailed);
  REQUIRE(waf.failure->health != nullptr);
  CHECK(std::string_view(waf.failure->health) == qp::protocol::kHealthNeedsVerification);
  CHECK(waf.failure->message.find("captcha") != std::string::npos);
  CHECK(waf.failure->message.size() < 400);  // the page itself is never quoted

  ParseAnswer auth = read_parse_answer(
      401, kJson,
      R"({"success":false,"data":{"code":"Unauthorized","details":"Token has expired"}})");
  REQUIRE(auth.state == ParseState::kFailed);
  CHECK(auth.failure->code == qp::Code::kUpstreamAuth);

  ParseAnswer refused = read_parse_answer(
      200, kJson,
      R"({"success":false,"data":{"code":"Bad_Request","details":"file_id is not exist"}})");
  REQUIRE(refused.state == ParseState::kFailed);
  CHECK(refused.failure->message.find("Bad_Request") != std::string::npos);

  ParseAnswer html = read_parse_answer(200, "text/html", "<html>maintenance</html>");
  REQUIRE(html.state == ParseState::kFailed);
  CHECK(html.failure->message.find("not a JSON object") != std::string::npos);
  CHECK(read_parse_answer(502, "text/html", "bad gateway").state == ParseState::kFailed);
}

TEST_CASE("parse status: ready, pending, failed and outage shapes", "[file_parse]") {
  for (const char* s : {"success", "parsed", "done", "SUCCESS"}) {
    ParseAnswer a = read_parse_status(200, kJson, status_answer("f", s), "f");
    CHECK(a.state == ParseState::kReady);
  }
  for (const char* s : {"parsing", "pending", "queued", ""}) {
    ParseAnswer a = read_parse_status(200, kJson, status_answer("f", s), "f");
    CHECK(a.state == ParseState::kPending);
  }
  // Another file's entry, or no list at all: still pending (bounded by max_polls).
  CHECK(read_parse_status(200, kJson, status_answer("g", "success"), "f").state ==
        ParseState::kPending);
  CHECK(read_parse_status(200, kJson, R"({"success":true,"data":{}})", "f").state ==
        ParseState::kPending);
  // A lone entry without an id is ours.
  CHECK(
      read_parse_status(200, kJson, R"({"success":true,"data":[{"status":"done"}]})", "f").state ==
      ParseState::kReady);
  // Among several, ours is found by id.
  CHECK(
      read_parse_status(
          200, kJson,
          R"({"success":true,"data":[{"file_id":"g","status":"parsing"},{"file_id":"f","status":"success"}]})",
          "f")
          .state == ParseState::kReady);

  ParseAnswer failed = read_parse_status(200, kJson, status_answer("f", "failed"), "f");
  REQUIRE(failed.state == ParseState::kFailed);
  CHECK(failed.failure->message == "Qwen could not parse the document (parse status failed)");

  // Peers' live outage from status: success false with a code. Fails at once.
  ParseAnswer outage = read_parse_status(
      200, kJson, R"({"success":false,"data":{"code":"Internal_Server_Error"}})", "f");
  REQUIRE(outage.state == ParseState::kFailed);
  CHECK(outage.failure->code == qp::Code::kUpstream);
  CHECK(outage.failure->message.find("Internal_Server_Error") != std::string::npos);

  ParseAnswer waf = read_parse_status(200, "text/html", waf_page(), "f");
  REQUIRE(waf.state == ParseState::kFailed);
  REQUIRE(waf.failure->health != nullptr);
  CHECK(std::string_view(waf.failure->health) == qp::protocol::kHealthNeedsVerification);

  ParseAnswer limited = read_parse_status(
      200, kJson, R"({"success":false,"data":{"code":"RateLimited","num":2}})", "f");
  REQUIRE(limited.state == ParseState::kFailed);
  CHECK(limited.failure->code == qp::Code::kRateLimited);

  // An upstream status text is shown only as a short token.
  ParseAnswer odd = read_parse_status(
      200, kJson, status_answer("f", "error<script>\\n" + std::string(200, 'x')), "f");
  CHECK(odd.status.size() <= 64);
  CHECK(odd.status.find('<') == std::string::npos);
}

TEST_CASE("parse polling is bounded", "[file_parse]") {
  ParseLimits limits{400, 3};
  CHECK(next_poll_delay(limits, 0) == std::optional<uint64_t>(400));
  CHECK(next_poll_delay(limits, 2) == std::optional<uint64_t>(400));
  CHECK_FALSE(next_poll_delay(limits, 3));
  qp::worker::UpstreamFailure t = parse_timeout(limits, 3);
  CHECK(t.code == qp::Code::kUpstreamTimeout);
  CHECK(t.message ==
        "Qwen did not finish parsing the document after 3 status checks (400 ms apart)");
  CHECK(t.health == nullptr);
}
