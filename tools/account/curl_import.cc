#include "tools/account/curl_import.h"

#include "tools/account/shell_words.h"

namespace qp::account_tool {
namespace {

Status bad(const std::string& what) { return error(Code::kInvalidArgument, what); }

// curl options that take a value we do not need (so the value is never
// mistaken for the URL).
constexpr std::string_view kOptionsWithValue[] = {"-d",
                                                  "--data",
                                                  "--data-raw",
                                                  "--data-binary",
                                                  "--data-ascii",
                                                  "--data-urlencode",
                                                  "--json",
                                                  "-X",
                                                  "--request",
                                                  "-e",
                                                  "--referer",
                                                  "-u",
                                                  "--user",
                                                  "-o",
                                                  "--output",
                                                  "-x",
                                                  "--proxy",
                                                  "-F",
                                                  "--form",
                                                  "-m",
                                                  "--max-time",
                                                  "--connect-timeout",
                                                  "-w",
                                                  "--write-out",
                                                  "-T",
                                                  "--upload-file",
                                                  "--resolve",
                                                  "--cacert",
                                                  "--cert",
                                                  "--key",
                                                  "-K",
                                                  "--config",
                                                  "-r",
                                                  "--range",
                                                  "-z",
                                                  "--time-cond",
                                                  "--retry",
                                                  "--limit-rate",
                                                  "--max-filesize",
                                                  "-U",
                                                  "--proxy-user",
                                                  "-c",
                                                  "--cookie-jar",
                                                  "--form-string"};

bool takes_value(std::string_view opt) {
  for (auto o : kOptionsWithValue) {
    if (o == opt) return true;
  }
  return false;
}

bool is_curl_program(std::string_view w) {
  size_t slash = w.find_last_of("/\\");
  std::string name = ascii_lower(slash == std::string_view::npos ? w : w.substr(slash + 1));
  return name == "curl" || name == "curl.exe";
}

bool is_http_url(std::string_view w) { return !url_host(w).empty(); }

// --- Invoke-WebRequest -------------------------------------------------------

bool ps_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void skip_space(std::string_view t, size_t* i) {
  while (*i < t.size() && (ps_space(t[*i]) || t[*i] == '`')) ++*i;
}

// A PowerShell string literal ('…' or "…") or a bare word at *i.
Result<std::string> ps_literal(std::string_view t, size_t* i) {
  skip_space(t, i);
  if (*i >= t.size()) return bad("Invoke-WebRequest: a value is missing at the end");
  char q = t[*i];
  std::string out;
  if (q != '"' && q != '\'') {
    while (*i < t.size() && !ps_space(t[*i]) && t[*i] != '=' && t[*i] != ',' && t[*i] != ')' &&
           t[*i] != '}' && t[*i] != ';') {
      out.push_back(t[(*i)++]);
    }
    return out;
  }
  size_t start = *i;
  for (size_t j = *i + 1; j < t.size(); ++j) {
    char c = t[j];
    if (q == '"' && c == '`' && j + 1 < t.size()) {
      char e = t[++j];
      out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e);
      continue;
    }
    if (c == q) {
      if (j + 1 < t.size() && t[j + 1] == q) {
        out.push_back(q);
        ++j;
        continue;
      }
      *i = j + 1;
      return out;
    }
    out.push_back(c);
  }
  return bad("Invoke-WebRequest: unterminated quote (at character " + std::to_string(start + 1) +
             ")");
}

Status ps_expect(std::string_view t, size_t* i, char c) {
  skip_space(t, i);
  if (*i >= t.size() || t[*i] != c) {
    return bad(std::string("Invoke-WebRequest: expected '") + c + "' at character " +
               std::to_string(*i + 1));
  }
  ++*i;
  return Status();
}

// The value after `-Name` (case-insensitive), if present.
Result<std::string> ps_param(std::string_view t, std::string_view name) {
  std::string lower = ascii_lower(t);
  std::string key = ascii_lower(name);
  size_t at = 0;
  while ((at = lower.find(key, at)) != std::string::npos) {
    size_t after = at + key.size();
    if (after < t.size() && ps_space(t[after])) {
      size_t i = after;
      return ps_literal(t, &i);
    }
    at = after;
  }
  return std::string();
}

}  // namespace

Result<Capture> parse_invoke_webrequest(std::string_view t) {
  Capture c;
  c.format = "PowerShell Invoke-WebRequest";
  // $session.UserAgent = "…"
  size_t ua = ascii_lower(t).find("$session.useragent");
  if (ua != std::string::npos) {
    size_t i = ua + 18;
    if (Status s = ps_expect(t, &i, '='); !s.ok()) return s;
    auto v = ps_literal(t, &i);
    if (!v) return v.error();
    c.user_agent = v.value();
  }
  // System.Net.Cookie("name", "value", "/", "domain")
  constexpr std::string_view kCookie = "System.Net.Cookie(";
  size_t at = 0;
  while ((at = t.find(kCookie, at)) != std::string_view::npos) {
    size_t i = at + kCookie.size();
    auto name = ps_literal(t, &i);
    if (!name) return name.error();
    if (Status s = ps_expect(t, &i, ','); !s.ok()) return s;
    auto value = ps_literal(t, &i);
    if (!value) return value.error();
    if (!name.value().empty()) add_header(&c, "cookie", name.value() + "=" + value.value());
    at = i;
  }
  auto uri = ps_param(t, "-Uri");
  if (!uri) return uri.error();
  c.url = uri.value();
  auto method = ps_param(t, "-Method");
  if (!method) return method.error();
  c.method = method.value().empty() ? "GET" : method.value();
  // -Headers @{ "k"="v" … }
  size_t h = ascii_lower(t).find("-headers");
  if (h != std::string::npos) {
    size_t i = h + 8;
    skip_space(t, &i);
    if (i + 1 < t.size() && t[i] == '@' && t[i + 1] == '{') {
      i += 2;
      for (;;) {
        while (i < t.size() && (ps_space(t[i]) || t[i] == ';' || t[i] == '`')) ++i;
        if (i >= t.size()) return bad("Invoke-WebRequest: unterminated -Headers @{ ... }");
        if (t[i] == '}') break;
        auto key = ps_literal(t, &i);
        if (!key) return key.error();
        if (key.value().empty()) return bad("Invoke-WebRequest: malformed -Headers @{ ... }");
        if (Status s = ps_expect(t, &i, '='); !s.ok()) return s;
        auto value = ps_literal(t, &i);
        if (!value) return value.error();
        add_header(&c, key.value(), value.value());
      }
    }
  }
  if (c.url.empty() && c.cookies.empty() && c.bearer.empty()) {
    return bad("not a usable Invoke-WebRequest command: no -Uri, cookies or headers found");
  }
  return c;
}

Result<Capture> parse_curl(std::string_view text) {
  ShellDialect dialect = detect_dialect(text);
  if (dialect == ShellDialect::kPowerShell &&
      ascii_lower(text).find("invoke-webrequest") != std::string::npos) {
    return parse_invoke_webrequest(text);
  }
  auto words = split_words(text, dialect);
  if (!words) return bad("cannot read the cURL command: " + words.error().message());
  const auto& w = words.value();
  if (w.empty() || !is_curl_program(w[0])) {
    return bad(
        "not a cURL command: it must start with `curl` (use \"Copy as cURL\" in the "
        "browser's network panel)");
  }
  Capture c;
  c.format = "cURL command (" + std::string(dialect_name(dialect)) + ")";
  bool options_done = false;
  std::string method;
  bool has_data = false;
  for (size_t i = 1; i < w.size(); ++i) {
    const std::string& a = w[i];
    auto value = [&](std::string_view opt) -> Result<std::string> {
      if (i + 1 >= w.size()) return bad("the cURL option " + std::string(opt) + " has no value");
      return w[++i];
    };
    if (options_done || a.empty() || a[0] != '-' || a == "-") {
      if (c.url.empty() && is_http_url(a)) c.url = a;
      continue;
    }
    if (a == "--") {
      options_done = true;
    } else if (a == "-H" || a == "--header") {
      auto v = value(a);
      if (!v) return v.error();
      add_header_line(&c, v.value());
    } else if (a.size() > 2 && a.rfind("-H", 0) == 0 && a[2] != '-') {
      add_header_line(&c, std::string_view(a).substr(2));
    } else if (a == "-b" || a == "--cookie") {
      auto v = value(a);
      if (!v) return v.error();
      if (v.value().find('=') == std::string::npos) {
        return bad("the cURL command reads cookies from a file (" + a +
                   " FILE); copy the request again with the cookies inline");
      }
      add_header(&c, "cookie", v.value());
    } else if (a == "-A" || a == "--user-agent") {
      auto v = value(a);
      if (!v) return v.error();
      c.user_agent = v.value();
    } else if (a == "--url") {
      auto v = value(a);
      if (!v) return v.error();
      c.url = v.value();
    } else if (a == "-X" || a == "--request") {
      auto v = value(a);
      if (!v) return v.error();
      method = v.value();
    } else if (takes_value(a)) {
      if (a.rfind("-d", 0) == 0 || a.rfind("--data", 0) == 0 || a == "--json") has_data = true;
      auto v = value(a);
      if (!v) return v.error();
    }
    // Any other option is a flag (--compressed, -i, -L, --insecure, …).
  }
  c.method = !method.empty() ? method : has_data ? "POST" : "GET";
  return c;
}

}  // namespace qp::account_tool
