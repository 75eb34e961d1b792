#include "worker/record_redact.h"

#include <catch2/catch.hpp>

#include "common/jwt.h"

using namespace qp::worker::record;

namespace {

std::string make_jwt(std::string_view payload) {
  return qp::jwt::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
         qp::jwt::base64url_encode(payload) + ".c2lnbmF0dXJlLXNpZw";
}

std::string json(Redactor& r, std::string_view in) {
  std::string out;
  REQUIRE(r.append_json(in, &out));
  return out;
}

}  // namespace

TEST_CASE("record headers: only the allow-listed ones are kept") {
  for (auto name : {"Accept", "content-type", "source", "Version", "x-accel-buffering"})
    CHECK(keep_request_header(name));
  for (auto name : {"Cookie", "Authorization", "bx-ua", "bx-umidtoken", "bx-v", "User-Agent",
                    "Referer", "x-request-id", "timezone", "Origin"})
    CHECK_FALSE(keep_request_header(name));
  for (auto name : {"Content-Type", "retry-after", "cache-control"})
    CHECK(keep_response_header(name));
  for (auto name : {"Set-Cookie", "set-cookie", "x-request-id", "eagleeye-traceid", "bx-x"})
    CHECK_FALSE(keep_response_header(name));
}

TEST_CASE("record JSON: secret and personal fields are redacted at any depth") {
  Redactor r;
  std::string out = json(r, R"({"token":"abc","data":{"user_id":"u-1","email":"a@b.c",
      "items":[{"access_key_secret":"k","security_token":"CAIS","file_path":"u/x.png"}],
      "usage":{"input_tokens":3,"output_tokens":5},"id":"chat-1","name":"Qwen3-Max"}})");
  CHECK(out.find("abc") == std::string::npos);
  CHECK(out.find("u-1") == std::string::npos);
  CHECK(out.find("a@b.c") == std::string::npos);
  CHECK(out.find("CAIS") == std::string::npos);
  CHECK(out.find("u/x.png") == std::string::npos);
  CHECK(out.find(R"("token":"[redacted]")") != std::string::npos);
  // Counts and ids that are not personal stay.
  CHECK(out.find(R"("input_tokens":3)") != std::string::npos);
  CHECK(out.find(R"("id":"chat-1")") != std::string::npos);
  CHECK(out.find(R"("name":"Qwen3-Max")") != std::string::npos);
  CHECK_FALSE(r.append_json("not json", &out));
  CHECK_FALSE(r.append_json("{broken", &out));
}

TEST_CASE("record text: signed URL parameters are redacted, the rest stays") {
  Redactor r;
  std::string url =
      "https://qwen-webui-prod.oss-accelerate.aliyuncs.com/u/a.png?Expires=1700000000&"
      "OSSAccessKeyId=STS.NUx1&Signature=abc%2Bdef&security-token=CAISzz&x-oss-process=image";
  std::string out = r.text(url);
  CHECK(out.find("STS.NUx1") == std::string::npos);
  CHECK(out.find("abc%2Bdef") == std::string::npos);
  CHECK(out.find("CAISzz") == std::string::npos);
  CHECK(out.find("x-oss-process=[redacted]") != std::string::npos);
  CHECK(out.find("Expires=1700000000") != std::string::npos);
  CHECK(out.starts_with("https://qwen-webui-prod.oss-accelerate.aliyuncs.com/u/a.png?"));
  // The same inside JSON, and the WAF punish URL's x5secdata.
  std::string j = json(
      r,
      R"({"data":{"url":"https://h/_____tmd_____/punish?x5secdata=SECRETBLOB__bx&action=captcha"}})");
  CHECK(j.find("SECRETBLOB") == std::string::npos);
  CHECK(j.find("action=captcha") != std::string::npos);
  CHECK(r.text("/api/v2/chat/completions?chat_id=c-1") == "/api/v2/chat/completions?chat_id=c-1");
}

TEST_CASE("record text: JWT-shaped strings are redacted wherever they appear") {
  Redactor r;
  std::string t = make_jwt(R"({"id":"someone","exp":1})");
  CHECK(r.text("Bearer " + t + " tail") == "Bearer [redacted] tail");
  std::string j = json(r, "{\"note\":\"x" + t + "\"}");
  CHECK(j.find(t) == std::string::npos);
  CHECK(r.text("eyJ alone") == "eyJ alone");
}

TEST_CASE("record: the account's secrets and its JWT user id are scrubbed everywhere") {
  std::string jwt = make_jwt(R"({"id":"8d852373-d39f-4863-93ea-a9c2eba797b3","exp":1762094985})");
  qp::AccountConfig a;
  a.cookies = "token=" + jwt + "; ssxmod_itna=QmFzZTY0Q29va2ll; acw_tc=0a1b2c3d4e5f; x=1";
  a.bx_umidtoken = "T2gAumidtokenvalue=";
  a.bx_ua = "231!bxuaopaquevalue";
  a.email = "person@example.com";
  a.password = "hunter2hunter2";
  Redactor r;
  r.add_account(a);
  std::string text =
      "user 8d852373-d39f-4863-93ea-a9c2eba797b3 cookie QmFzZTY0Q29va2ll, "
      "acw 0a1b2c3d4e5f, mail person@example.com pw hunter2hunter2 "
      "umid T2gAumidtokenvalue= ua 231!bxuaopaquevalue x=1";
  std::string out = r.text(text);
  for (auto s : {"8d852373", "QmFzZTY0Q29va2ll", "0a1b2c3d4e5f", "person@example.com",
                 "hunter2hunter2", "T2gAumidtokenvalue", "bxuaopaquevalue"}) {
    CHECK(out.find(s) == std::string::npos);
  }
  CHECK(out.find("x=1") != std::string::npos);  // too short to be scrubbed; never a header anyway
  // scrub() also catches the JSON-escaped form.
  std::string line = R"({"k":"T2gAumidtokenvalue=","p":"a\/b"})";
  r.scrub(&line);
  CHECK(line.find("T2gA") == std::string::npos);
}

TEST_CASE("record JSON keys: names carrying secrets") {
  CHECK(is_secret_key("Token", true));
  CHECK(is_secret_key("bx-umidtoken", true));
  CHECK(is_secret_key("refresh_token", true));
  CHECK_FALSE(is_secret_key("output_tokens", false));  // a number: usage, not a secret
  CHECK(is_secret_key("userId", false));
  CHECK(is_secret_key("EMAIL", false));
  CHECK_FALSE(is_secret_key("chat_id", true));
  CHECK_FALSE(is_secret_key("content", true));
  CHECK(is_signed_url_param("Signature"));
  CHECK(is_signed_url_param("X-OSS-Security-Token"));
  CHECK_FALSE(is_signed_url_param("chat_id"));
}
