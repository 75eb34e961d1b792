#include "common/accounts/credentials.h"

#include <array>

#include "common/jwt.h"
#include "common/strings.h"

namespace qp::accounts {
namespace {

Status bad(const std::string& origin, const std::string& what) {
  return error(Code::kInvalidArgument, origin + ": " + what);
}

bool has_control(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF): what a TOML account file can hold.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = c >= 0xc2 && c <= 0xdf   ? 1
               : c >= 0xe0 && c <= 0xef ? 2
               : c >= 0xf0 && c <= 0xf4 ? 3
                                        : 0;
    if (n == 0 || s.size() - i <= n) return false;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    unsigned char lo = 0x80, hi = 0xbf;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (c1 < lo || c1 > hi) return false;
    for (size_t k = 2; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

bool jwt_charset(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '=';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string remove_cookie(std::string_view cookies, std::string_view name) {
  std::string out;
  size_t pos = 0;
  while (pos <= cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string_view::npos) end = cookies.size();
    std::string_view part = strings::trim_blanks(cookies.substr(pos, end - pos));
    size_t eq = part.find('=');
    std::string_view key =
        strings::trim_blanks(eq == std::string_view::npos ? part : part.substr(0, eq));
    if (!part.empty() && key != name) {
      if (!out.empty()) out += "; ";
      out.append(part);
    }
    pos = end + 1;
  }
  return out;
}

bool valid_proxy_url(std::string_view url) {
  static constexpr std::array<std::string_view, 6> kSchemes = {
      "http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://"};
  for (auto scheme : kSchemes) {
    if (url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme) {
      std::string_view rest = url.substr(scheme.size());
      size_t at = rest.rfind('@');
      std::string_view host = at == std::string_view::npos ? rest : rest.substr(at + 1);
      if (host.empty() || host.front() == '/' || host.front() == ':') return false;
      for (char c : url) {
        if (c == ' ' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
      }
      return true;
    }
  }
  return false;
}

Result<CredentialFacts> finalize_credentials(AccountConfig* a, const std::string& origin) {
  struct Field {
    const char* key;
    const std::string* value;
  };
  for (Field f :
       {Field{"token", &a->token}, Field{"cookies", &a->cookies},
        Field{"bx_umidtoken", &a->bx_umidtoken}, Field{"bx_ua", &a->bx_ua}, Field{"bx_v", &a->bx_v},
        Field{"user_agent", &a->user_agent}, Field{"email", &a->email},
        Field{"password", &a->password}, Field{"proxy", &a->proxy}}) {
    if (has_control(*f.value)) {
      return bad(origin, std::string(f.key) +
                             " contains a control character (a line break pasted by accident?)");
    }
    if (!valid_utf8(*f.value)) {
      return bad(origin, std::string(f.key) + " is not valid UTF-8 text");
    }
  }
  a->token = std::string(strings::trim_blanks(a->token));
  if (a->token.rfind("Bearer ", 0) == 0)
    a->token = std::string(strings::trim_blanks(a->token.substr(7)));

  CredentialFacts facts;
  std::string cookie_token = cookie_value(a->cookies, "token");
  if (a->token.empty() && !cookie_token.empty()) {
    a->token = cookie_token;
    facts.token_from_cookie = true;
  }
  if (a->email.empty() != a->password.empty()) {
    return bad(origin, a->email.empty() ? "password is set but email is not"
                                        : "email is set but password is not");
  }
  if (!a->email.empty() && a->email.find('@') == std::string::npos) {
    return bad(origin, "email does not look like an email address");
  }
  if (a->token.empty()) {
    if (a->email.empty()) {
      return bad(origin,
                 "no session token: set `token`, or include the `token` cookie in `cookies`, or "
                 "set email and password (import fresh credentials with `qwenproxy account "
                 "import`)");
    }
  } else {
    if (!jwt_charset(a->token)) {
      return bad(origin, std::string(facts.token_from_cookie ? "the token cookie" : "token") +
                             " is not a JWT (unexpected characters)");
    }
    auto exp = jwt::expiry_unix_s(a->token);
    if (!exp) {
      return bad(origin, std::string(facts.token_from_cookie ? "the token cookie" : "token") +
                             " is not a usable JWT: " + exp.error().message());
    }
    facts.token_expires_unix_s = exp.value();
    if (cookie_token != a->token) {
      std::string rest = remove_cookie(a->cookies, "token");
      a->cookies = rest.empty() ? "token=" + a->token : rest + "; token=" + a->token;
    }
  }
  if (!a->proxy.empty() && !valid_proxy_url(a->proxy)) {
    return bad(origin,
               "proxy must be a URL like socks5h://host:port or http://user:pass@host:port "
               "(schemes: http, https, socks4, socks4a, socks5, socks5h)");
  }
  if (a->capacity < 1 || a->capacity > 100000)
    return bad(origin, "capacity must be from 1 to 100000");
  return facts;
}

}  // namespace qp::accounts
