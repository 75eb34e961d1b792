// Fuzz target: `qwenproxy account import` (tools/account): the cURL (bash,
// cmd, PowerShell), Invoke-WebRequest, Cookie header / request headers, HAR
// and .env importers, each run on the input, plus format detection. An
// accepted import must render an account file that loads back to the same
// credentials; no error may quote a JWT from the input, no summary a credential.
#include <string>
#include <string_view>
#include <vector>

#include "common/accounts/account_file.h"
#include "common/accounts/dotenv.h"
#include "fuzz_util.h"
#include "tools/account/curl_import.h"
#include "tools/account/har_import.h"
#include "tools/account/header_import.h"
#include "tools/account/import.h"

using namespace qp;
using namespace qp::account_tool;

namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01, as the unit tests

bool jwt_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// JWT-looking runs in the input ("eyJ" + at least 20 more token characters).
std::vector<std::string_view> secrets(std::string_view in) {
  std::vector<std::string_view> out;
  for (size_t p = in.find("eyJ"); p != std::string_view::npos; p = in.find("eyJ", p + 1)) {
    size_t e = p;
    while (e < in.size() && jwt_char(in[e])) ++e;
    if (e - p >= 23) out.push_back(in.substr(p, e - p));
  }
  return out;
}

void no_secret(std::string_view text, const std::vector<std::string_view>& s, const char* what) {
  for (auto jwt : s) {
    if (text.find(jwt) != std::string_view::npos) fuzz::fail(what, "quotes a token of the input");
  }
}

void check_import(std::string_view in, ImportFormat format,
                  const std::vector<std::string_view>& s) {
  auto r = import_credentials(in, format, "alice", kNow);
  if (!r) {
    if (r.error().message().empty()) fuzz::fail("import error without a message");
    no_secret(r.error().message(), s, "import error");
    return;
  }
  const AccountConfig& a = r.value().account;
  std::string file = accounts::render_account_toml(a, "fuzz");
  AccountConfig back;
  auto st = accounts::apply_account_toml(file, "fuzz.toml", &back);
  if (!st.ok()) fuzz::fail("the imported account's file does not load", st.message());
  if (back.token != a.token || back.cookies != a.cookies || back.bx_umidtoken != a.bx_umidtoken ||
      back.bx_ua != a.bx_ua || back.bx_v != a.bx_v || back.user_agent != a.user_agent)
    fuzz::fail("the imported account's file loads different credentials");
  // The summary shows the request path the user copied (which may look like
  // anything), but never the credentials themselves.
  std::string summary = import_summary(r.value(), "/etc/qwenproxy/accounts/alice.toml", {}, kNow);
  for (const std::string* secret : {&a.token, &a.bx_umidtoken, &a.bx_ua}) {
    if (secret->size() >= 16 && summary.find(*secret) != std::string::npos)
      fuzz::fail("import summary", "quotes a credential");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto s = secrets(in);
  (void)detect_import_format(in);
  for (auto f : {ImportFormat::kAuto, ImportFormat::kCurl, ImportFormat::kCookie,
                 ImportFormat::kHar, ImportFormat::kEnv}) {
    check_import(in, f, s);
  }
  // The parsers on their own (import_credentials stops at the first error).
  for (const auto& r :
       {parse_curl(in), parse_invoke_webrequest(in), parse_cookie_input(in), parse_har(in)}) {
    if (!r) no_secret(r.error().message(), s, "parser error");
  }
  auto env = accounts::parse_dotenv(in, ".env");
  if (!env) no_secret(env.error().message(), s, "dotenv error");
  return 0;
}
