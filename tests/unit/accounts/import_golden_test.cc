// Golden tests for `qwenproxy account import`: each input in
// tests/testdata/accounts/ must produce exactly NAME.expected (the account
// file, then the printed summary). Set QP_UPDATE_GOLDEN=1 to rewrite the
// expected files, then review the diff.
#include <cstdlib>

#include <catch2/catch.hpp>

#include "common/accounts/account_file.h"
#include "common/accounts/credentials.h"
#include "test_util.h"
#include "tools/account/capture.h"
#include "tools/account/curl_import.h"
#include "tools/account/har_import.h"
#include "tools/account/import.h"

using namespace qp::account_tool;
using qp::test::kJwt;
using qp::test::kNow;
using qp::test::testdata;

namespace {

std::string golden_output(const std::string& input_name, ImportFormat format) {
  auto r = import_credentials(testdata(input_name), format, "alice", kNow);
  if (!r) FAIL(input_name << ": " << r.error().message());
  std::string out = qp::accounts::render_account_toml(r->account, "golden");
  out += "----\n";
  out += import_summary(r.value(), "/etc/qwenproxy/accounts/alice.toml", {}, kNow);
  // The summary never shows a secret.
  std::string summary = out.substr(out.find("----\n"));
  CHECK(summary.find(kJwt) == std::string::npos);
  CHECK(summary.find("T2gAfake") == std::string::npos);
  CHECK(summary.find("0a03e586") == std::string::npos);
  return out;
}

void check_golden(const std::string& input_name, ImportFormat format = ImportFormat::kAuto) {
  std::string got = golden_output(input_name, format);
  std::string expected_path =
      std::string(QP_TESTDATA_DIR) + "/accounts/" + input_name + ".expected";
  if (std::getenv("QP_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expected_path, std::ios::binary | std::ios::trunc) << got;
  }
  INFO("input: " << input_name);
  CHECK(got == qp::test::read_file(expected_path));
}

std::string import_error(const std::string& input_name, ImportFormat format = ImportFormat::kAuto) {
  std::string text = testdata(input_name);
  auto r = import_credentials(text, format, "alice", kNow);
  REQUIRE_FALSE(r.has_value());
  const std::string& m = r.error().message();
  CHECK(m.find(kJwt) == std::string::npos);
  CHECK(m.find("T2gAfake") == std::string::npos);
  CHECK(m.find("0a03e586") == std::string::npos);
  return m;
}

}  // namespace

TEST_CASE("import golden: cURL commands from Chrome and Firefox", "[accounts][import]") {
  check_golden("chrome_bash.curl");
  check_golden("firefox_posix.curl");
  check_golden("chrome_cmd.curl");
  check_golden("firefox_windows.curl");
  check_golden("powershell.curl");
  check_golden("chrome_powershell.ps1");
}

TEST_CASE("import golden: Cookie header, cookie string, header blocks, .env",
          "[accounts][import]") {
  check_golden("cookie_header.txt");
  check_golden("cookie_bare.txt");
  check_golden("request_headers.txt");
  check_golden("chrome_h2_headers.txt");
  check_golden("old_proxy.env");
  check_golden("expiring_soon.txt");
  check_golden("token_mismatch.curl");
  check_golden("other_host.curl");
}

TEST_CASE("import golden: HAR picks the last API request with a token", "[accounts][import]") {
  check_golden("session.har");
  // A UTF-8 byte-order mark (Windows editors) changes nothing.
  auto bom = import_credentials("\xEF\xBB\xBF" + testdata("session.har"), ImportFormat::kAuto,
                                "alice", kNow);
  REQUIRE(bom.has_value());
  CHECK(bom->source == "HAR file (entry 4 of 5)");
  auto c = parse_har(testdata("session.har"));
  REQUIRE(c.has_value());
  CHECK(c->format == "HAR file (entry 4 of 5)");
  CHECK(c->bearer == kJwt);
  CHECK(c->bx_umidtoken == "T2gAfakeUmidToken_0123456789abcdef==");
  CHECK(c->url == "https://chat.qwen.ai/api/v2/chat/completions?chat_id=9f2c");
}

TEST_CASE("every cURL dialect yields the same credentials", "[accounts][import]") {
  auto base = parse_curl(testdata("chrome_bash.curl"));
  REQUIRE(base.has_value());
  for (const char* name : {"chrome_cmd.curl", "chrome_powershell.ps1"}) {
    INFO(name);
    auto c = parse_curl(testdata(name));
    REQUIRE(c.has_value());
    CHECK(c->cookies == base->cookies);
    CHECK(c->bearer == base->bearer);
    CHECK(c->bx_ua == base->bx_ua);
    CHECK(c->bx_umidtoken == base->bx_umidtoken);
    CHECK(c->user_agent == base->user_agent);
    CHECK(c->url == base->url);
    CHECK(c->method == "POST");
  }
  auto ff = parse_curl(testdata("firefox_windows.curl"));
  REQUIRE(ff.has_value());
  CHECK(ff->cookies == base->cookies);
  CHECK(ff->bx_ua == base->bx_ua);
}

TEST_CASE("hostile or useless input gives a clear error and no secret", "[accounts][import]") {
  CHECK(import_error("missing_token.curl").find("has no session token") != std::string::npos);
  CHECK(import_error("expired.curl").find("expired 2020-09-13") != std::string::npos);
  CHECK(import_error("cookie_file.curl").find("reads cookies from a file") != std::string::npos);
  CHECK(import_error("header_injection.curl").find("control character") != std::string::npos);
  CHECK(import_error("unterminated.curl").find("unterminated") != std::string::npos);
  CHECK(import_error("not_a_jwt.txt").find("not a JWT") != std::string::npos);
  CHECK(import_error("bad_jwt_payload.txt").find("not a usable JWT") != std::string::npos);
  CHECK(import_error("wget.txt").find("not a Cookie header") != std::string::npos);
  CHECK(import_error("garbage.bin").find("not a Cookie header") != std::string::npos);
  CHECK(import_error("garbage.bin", ImportFormat::kHar).find("not a valid HAR") !=
        std::string::npos);
  CHECK(import_error("garbage.bin", ImportFormat::kCurl).find("not a cURL command") !=
        std::string::npos);
  CHECK(import_error("sanitized.har").find("Export HAR (with sensitive data)") !=
        std::string::npos);
  CHECK(import_error("truncated.har").find("not a valid HAR") != std::string::npos);
  CHECK(import_error("not_a.har").find("no \"log\" object") != std::string::npos);
  CHECK(import_error("no_api.har").find("no request to a chat.qwen.ai API") != std::string::npos);
  CHECK(import_error("chrome_bash.curl", ImportFormat::kEnv).find(".env input: line 1:") !=
        std::string::npos);
  auto utf16 =
      import_credentials(std::string("\xFF\xFE{\0", 4), ImportFormat::kAuto, "alice", kNow);
  REQUIRE_FALSE(utf16.has_value());
  CHECK(utf16.error().message().find("UTF-16") != std::string::npos);
  auto empty = import_credentials("  \n\t", ImportFormat::kAuto, "alice", kNow);
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error().message() == "the input is empty");
  // A cURL option at the very end without its value.
  auto dangling =
      import_credentials("curl https://chat.qwen.ai/api -H", ImportFormat::kCurl, "alice", kNow);
  REQUIRE_FALSE(dangling.has_value());
  CHECK(dangling.error().message().find("-H has no value") != std::string::npos);
}

TEST_CASE("the format is detected from the input", "[accounts][import]") {
  CHECK(detect_import_format(testdata("session.har")) == ImportFormat::kHar);
  CHECK(detect_import_format(testdata("chrome_bash.curl")) == ImportFormat::kCurl);
  CHECK(detect_import_format(testdata("chrome_cmd.curl")) == ImportFormat::kCurl);
  CHECK(detect_import_format(testdata("firefox_windows.curl")) == ImportFormat::kCurl);
  CHECK(detect_import_format(testdata("chrome_powershell.ps1")) == ImportFormat::kCurl);
  CHECK(detect_import_format(testdata("cookie_header.txt")) == ImportFormat::kCookie);
  CHECK(detect_import_format(testdata("request_headers.txt")) == ImportFormat::kCookie);
  CHECK(detect_import_format(testdata("old_proxy.env")) == ImportFormat::kEnv);
  CHECK(parse_import_format("har").value() == ImportFormat::kHar);
  CHECK_FALSE(parse_import_format("xml").has_value());
}

TEST_CASE("re-importing keeps what a browser copy cannot give", "[accounts][import]") {
  qp::AccountConfig old;
  old.email = "a@example.com";
  old.password = "pw";
  old.proxy = "socks5h://127.0.0.1:1080";
  old.capacity = 8;
  qp::AccountConfig fresh;
  auto kept = keep_local_fields(old, &fresh);
  CHECK(kept == std::vector<std::string>{"email", "password", "proxy", "capacity"});
  CHECK(fresh.email == "a@example.com");
  CHECK(fresh.proxy == old.proxy);
  CHECK(fresh.capacity == 8);
  qp::AccountConfig plain;
  qp::AccountConfig fresh2;
  CHECK(keep_local_fields(plain, &fresh2).empty());
}

TEST_CASE("header lines and URLs", "[accounts][import]") {
  Capture c;
  CHECK(add_header_line(&c, "Cookie: a=1"));
  CHECK(add_header_line(&c, "cookie:b=2;"));
  CHECK(add_header_line(&c, "AUTHORIZATION: bearer  x.y.z "));
  CHECK_FALSE(add_header_line(&c, "no colon"));
  CHECK_FALSE(add_header_line(&c, ": no name"));
  CHECK(c.cookies == "a=1; b=2");
  CHECK(c.bearer == "x.y.z");
  CHECK(url_host("https://user:pw@Chat.Qwen.AI:443/api?x") == "chat.qwen.ai");
  CHECK(url_host("ftp://x") == "");
  CHECK(url_path("https://chat.qwen.ai/api/v2/chats/new?x=1#f") == "/api/v2/chats/new");
  CHECK(url_path("https://chat.qwen.ai") == "/");
}

// Found by fuzzing: a mangled paste put the Cookie header into the request
// path, and the summary's request line quoted the token.
TEST_CASE("the summary's request line never quotes a credential", "[accounts][import]") {
  std::string text =
      ":authority: chat.qwen.ai\n:method: POST\n:path: /api/v2/chats/token=" + std::string(kJwt) +
      "; cna=abcdefghijklmnop\nbx-umidtoken: T2gAfakeUmid_0123\n" +
      "cookie: token=" + std::string(kJwt) + "; cna=abcdefghijklmnop\n";
  auto r = import_credentials(text, ImportFormat::kAuto, "alice", kNow);
  REQUIRE(r);
  std::string summary = import_summary(r.value(), "/x/alice.toml", {}, kNow);
  CHECK(summary.find(kJwt) == std::string::npos);
  CHECK(summary.find("abcdefghijklmnop") == std::string::npos);
  INFO(summary);
  CHECK(summary.find("request:       POST chat.qwen.ai/api/v2/chats/") != std::string::npos);
  CHECK(summary.find("[redacted]") != std::string::npos);
}

// Found by fuzzing: a mangled paste put a whole command line, the token
// included, before a cookie's `=`, and the summary listed that "name".
TEST_CASE("the summary never shows a malformed cookie name", "[accounts][import]") {
  std::string text = ":authority: chat.qwen.ai\n:method: POST\n:path: /api/v2/chats/new\n" +
                     std::string("cookie: token=") + std::string(kJwt) +
                     "; cna=abcdefghijklmnop; iss/new' -H 'authorization: Bearer " +
                     std::string(kJwt) + "' -b 'xssion = x; aui=1\n";
  auto r = import_credentials(text, ImportFormat::kAuto, "alice", kNow);
  REQUIRE(r);
  CHECK(r.value().cookie_names == std::vector<std::string>{"cna", "aui"});
  CHECK(r.value().malformed_cookie_names == 1);
  std::string summary = import_summary(r.value(), "/x/alice.toml", {}, kNow);
  INFO(summary);
  CHECK(summary.find(kJwt) == std::string::npos);
  CHECK(summary.find("3 besides the token (cna, aui), 1 with a malformed name") !=
        std::string::npos);
}

// Found by fuzzing: a cookie value that "[redacted]" contains made the
// request line's redaction find it again in its own marker, forever.
TEST_CASE("redacting the request line ends when a secret looks like the marker",
          "[accounts][import]") {
  std::string text =
      ":authority: chat.qwen.ai\n:method: POST\n:path: /api/v2/chats/x_redacted]_y\n" +
      std::string("cookie: token=") + std::string(kJwt) + "; zz=redacted]\n";
  auto r = import_credentials(text, ImportFormat::kAuto, "alice", kNow);
  REQUIRE(r);
  std::string summary = import_summary(r.value(), "/x/alice.toml", {}, kNow);
  INFO(summary);
  CHECK(summary.find("x_[redacted]_y") != std::string::npos);
}

// Found by fuzzing: a mangled paste put the whole Cookie header, token
// included, after "bx-v:", and the summary showed bx-v as it was.
TEST_CASE("the summary shows bx-v only when it is a version number", "[accounts][import]") {
  std::string text = ":authority: chat.qwen.ai\n:method: POST\n:path: /api/v2/chats/new\n" +
                     std::string("cookie: token=") + std::string(kJwt) + "\n";
  auto plain = import_credentials(text + "bx-v: 2.5.31\n", ImportFormat::kAuto, "alice", kNow);
  REQUIRE(plain);
  CHECK(import_summary(plain.value(), "/x/alice.toml", {}, kNow).find("bx-v:          2.5.31\n") !=
        std::string::npos);
  auto mangled = import_credentials(text + "bx-v: 2.5.31; token=" + std::string(kJwt) + "\n",
                                    ImportFormat::kAuto, "alice", kNow);
  REQUIRE(mangled);
  std::string summary = import_summary(mangled.value(), "/x/alice.toml", {}, kNow);
  INFO(summary);
  CHECK(summary.find(kJwt) == std::string::npos);
  CHECK(summary.find("bx-v:          found, but not a version number") != std::string::npos);
}
