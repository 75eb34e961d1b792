#include "tools/account/import.h"

#include <cctype>

#include "common/accounts/dotenv.h"
#include "common/strings.h"
#include "tools/account/capture.h"
#include "tools/account/curl_import.h"
#include "tools/account/har_import.h"
#include "tools/account/header_import.h"
#include "tools/account/time_text.h"

namespace qp::account_tool {
namespace {

using strings::trim;

constexpr int64_t kSoonS = 24 * 3600;

Status bad(const std::string& what) { return error(Code::kInvalidArgument, what); }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> cookie_names(std::string_view cookies, size_t* malformed) {
  constexpr size_t kMaxShownName = 64;
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string_view::npos) end = cookies.size();
    std::string_view part = trim(cookies.substr(pos, end - pos));
    size_t eq = part.find('=');
    if (!part.empty() && eq != std::string_view::npos) {
      std::string_view name = trim(part.substr(0, eq));
      if (name.size() <= kMaxShownName && strings::is_http_token(name)) {
        out.emplace_back(name);
      } else {
        ++*malformed;
      }
    }
    pos = end + 1;
  }
  return out;
}

Result<Capture> capture_from_env(std::string_view text) {
  auto env = accounts::parse_dotenv(text, ".env input");
  if (!env) return env.error();
  auto get = [&](const char* k) {
    auto it = env->find(k);
    return it == env->end() ? std::string() : it->second;
  };
  Capture c;
  c.format = ".env file";
  c.cookies = get("QWEN_COOKIES");
  c.bearer = get("QWEN_JWT");
  c.bx_umidtoken = get("QWEN_TOKEN");  // the old proxy's name for bx-umidtoken
  c.bx_ua = get("QWEN_BX_UA");
  c.bx_v = get("QWEN_BX_V");
  c.user_agent = get("QWEN_USER_AGENT");
  if (c.cookies.empty() && c.bearer.empty()) {
    return bad("the .env input sets neither QWEN_COOKIES nor QWEN_JWT");
  }
  return c;
}

}  // namespace

Result<ImportFormat> parse_import_format(std::string_view name) {
  if (name == "auto") return ImportFormat::kAuto;
  if (name == "curl") return ImportFormat::kCurl;
  if (name == "cookie" || name == "header" || name == "headers") return ImportFormat::kCookie;
  if (name == "har") return ImportFormat::kHar;
  if (name == "env") return ImportFormat::kEnv;
  return bad("unknown format '" + std::string(name) + "' (auto, curl, cookie, har, env)");
}

ImportFormat detect_import_format(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string_view t = trim(text);
  if (!t.empty() && (t.front() == '{' || t.front() == '[')) return ImportFormat::kHar;
  size_t end = t.find_first_of(" \t\r\n");
  std::string first = ascii_lower(t.substr(0, end));
  if (first == "curl" || first == "curl.exe" || ends_with(first, "/curl") ||
      ends_with(first, "\\curl.exe")) {
    return ImportFormat::kCurl;
  }
  if (t.find("Invoke-WebRequest") != std::string_view::npos ||
      t.find("$session") != std::string_view::npos) {
    return ImportFormat::kCurl;
  }
  if (t.rfind("QWEN_", 0) == 0 || t.find("\nQWEN_COOKIES=") != std::string_view::npos ||
      t.find("\nexport QWEN_COOKIES=") != std::string_view::npos ||
      t.rfind("export QWEN_", 0) == 0 || t.find("\nQWEN_JWT=") != std::string_view::npos) {
    return ImportFormat::kEnv;
  }
  return ImportFormat::kCookie;
}

Result<ImportResult> import_credentials(std::string_view text, ImportFormat format,
                                        const std::string& name, int64_t now_unix_s) {
  // Windows editors and PowerShell redirections add byte-order marks.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF") {
    return bad(
        "the input is UTF-16 text (as PowerShell's `>` writes it): save it as UTF-8, e.g. "
        "with `Out-File -Encoding utf8`");
  }
  if (trim(text).empty()) return bad("the input is empty");
  if (format == ImportFormat::kAuto) format = detect_import_format(text);
  Result<Capture> cap = format == ImportFormat::kCurl  ? parse_curl(text)
                        : format == ImportFormat::kHar ? parse_har(text)
                        : format == ImportFormat::kEnv ? capture_from_env(text)
                                                       : parse_cookie_input(text);
  if (!cap) return cap.error();
  Capture& c = cap.value();

  ImportResult r;
  r.source = c.format;
  if (!c.url.empty()) {
    r.request =
        (c.method.empty() ? std::string() : c.method + " ") + url_host(c.url) + url_path(c.url);
    std::string host = url_host(c.url);
    if (!(host == "qwen.ai" || ends_with(host, ".qwen.ai"))) {
      r.notes.push_back("the request went to " + host +
                        ", not chat.qwen.ai: are these the right credentials?");
    }
  }
  std::string cookie_token = cookie_value(c.cookies, "token");
  if (c.bearer.empty() && cookie_token.empty()) {
    return bad("the " + c.format +
               " has no session token: neither an `Authorization: Bearer` header nor a `token` "
               "cookie. Copy a request to chat.qwen.ai/api/... made while logged in");
  }
  AccountConfig& a = r.account;
  a.name = name;
  a.token = c.bearer;
  a.cookies = c.cookies;
  a.bx_umidtoken = c.bx_umidtoken;
  a.bx_ua = c.bx_ua;
  a.bx_v = c.bx_v;
  a.user_agent = c.user_agent;
  r.token_from = !c.bearer.empty()
                     ? (format == ImportFormat::kEnv ? "QWEN_JWT" : "Authorization header")
                     : "token cookie";
  if (!c.bearer.empty() && !cookie_token.empty() && cookie_token != c.bearer) {
    r.notes.push_back(
        "the token cookie differs from the Authorization header; the Authorization token is kept");
  }
  auto facts = accounts::finalize_credentials(&a, "the " + c.format);
  if (!facts) return facts.error();
  r.facts = facts.value();
  int64_t exp = r.facts.token_expires_unix_s;
  if (exp <= now_unix_s) {
    return bad("the token in the " + c.format + " expired " + utc_text(exp) + " (" +
               duration_text(now_unix_s - exp) +
               " ago): log in to chat.qwen.ai again and copy a fresh request");
  }
  if (exp - now_unix_s < kSoonS) {
    r.notes.push_back("the token expires in less than 24 h (" + duration_text(exp - now_unix_s) +
                      "): import fresh credentials soon");
  }
  if (a.bx_umidtoken.empty()) {
    r.notes.push_back(
        "no bx-umidtoken header (optional for a signed-in account; copy a chat.qwen.ai API "
        "request to include it)");
  }
  // The file keeps the JWT once, in `token`.
  a.cookies = accounts::remove_cookie(a.cookies, "token");
  r.cookie_names = cookie_names(a.cookies, &r.malformed_cookie_names);
  return r;
}

std::vector<std::string> keep_local_fields(const AccountConfig& existing, AccountConfig* imported) {
  std::vector<std::string> kept;
  if (imported->email.empty() && !existing.email.empty()) {
    imported->email = existing.email;
    imported->password = existing.password;
    kept.emplace_back("email");
    kept.emplace_back("password");
  }
  if (imported->proxy.empty() && !existing.proxy.empty()) {
    imported->proxy = existing.proxy;
    kept.emplace_back("proxy");
  }
  if (existing.capacity != AccountConfig{}.capacity) {
    imported->capacity = existing.capacity;
    kept.emplace_back("capacity");
  }
  return kept;
}

namespace {

// The request line is what the user pasted and may hold anything, a
// credential included (a mangled paste put the Cookie header into the path):
// every credential value of the account is cut out of it, then it is capped.
std::string shown_request(std::string line, const AccountConfig& a) {
  // The search goes on after the marker: from the marker itself, a secret
  // that "[redacted]" contains (a cookie value "redacted]") was found again
  // forever (found by fuzzing: a 10 KB paste hung the import).
  constexpr std::string_view kMarker = "[redacted]";
  auto cut = [&line, kMarker](std::string_view secret) {
    if (secret.size() < 8) return;
    for (size_t at = line.find(secret); at != std::string::npos;
         at = line.find(secret, at + kMarker.size()))
      line.replace(at, secret.size(), kMarker);
  };
  for (const std::string* secret : {&a.token, &a.bx_umidtoken, &a.bx_ua}) cut(*secret);
  std::string_view cookies = a.cookies;
  while (!cookies.empty()) {
    size_t semi = cookies.find(';');
    std::string_view pair = cookies.substr(0, semi);
    if (size_t eq = pair.find('='); eq != std::string_view::npos) cut(trim(pair.substr(eq + 1)));
    cookies = semi == std::string_view::npos ? std::string_view() : cookies.substr(semi + 1);
  }
  constexpr size_t kMaxShown = 160;
  if (line.size() > kMaxShown) {
    line.resize(kMaxShown);
    line += "...";
  }
  return line;
}

// bx-v is a version ("2.5.31") and is shown as such; anything else is what a
// mangled paste put there (found by fuzzing: a whole Cookie header, token
// included, after "bx-v:"), so it is not quoted.
std::string shown_version(std::string_view v) {
  if (v.empty()) return "missing";
  constexpr size_t kMaxVersion = 32;
  bool version = v.size() <= kMaxVersion;
  for (char c : v) {
    version = version && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                          c == '-' || c == '_');
  }
  return version ? std::string(v) : "found, but not a version number (not shown: check the paste)";
}

}  // namespace

std::string import_summary(const ImportResult& r, const std::string& path,
                           const std::vector<std::string>& kept, int64_t now_unix_s) {
  const AccountConfig& a = r.account;
  auto yes = [](const std::string& v) { return v.empty() ? "missing" : "found"; };
  std::string out = "qwenproxy: account '" + a.name + "' written to " + path + " (mode 0600)\n";
  out += "  from:          " + r.source + "\n";
  if (!r.request.empty()) out += "  request:       " + shown_request(r.request, a) + "\n";
  out += "  token:         from the " + r.token_from + ", " +
         expiry_text(r.facts.token_expires_unix_s, now_unix_s) + "\n";
  out += "  cookies:       " + std::to_string(r.cookie_names.size() + r.malformed_cookie_names) +
         " besides the token";
  if (!r.cookie_names.empty()) {
    out += " (";
    for (size_t i = 0; i < r.cookie_names.size(); ++i) {
      if (i > 0) out += ", ";
      out += r.cookie_names[i];
    }
    out += ")";
  }
  if (r.malformed_cookie_names > 0) {
    out += ", " + std::to_string(r.malformed_cookie_names) +
           " with a malformed name (not shown: check the paste)";
  }
  out += "\n";
  out += std::string("  bx-umidtoken:  ") + yes(a.bx_umidtoken) + "\n";
  out += std::string("  bx-ua:         ") + yes(a.bx_ua) + "\n";
  out += "  bx-v:          " + shown_version(a.bx_v) + "\n";
  out += std::string("  User-Agent:    ") + yes(a.user_agent) + "\n";
  if (!kept.empty()) {
    out += "  kept from the previous file:";
    for (const auto& k : kept) out += " " + k;
    out += "\n";
  }
  for (const auto& n : r.notes) out += "  note: " + n + "\n";
  return out;
}

}  // namespace qp::account_tool
