#include "tools/mock-qwen/auth.h"

#include <openssl/evp.h>

#include "common/strings.h"
#include "tools/mock-qwen/jwt.h"

namespace qp::mock {
namespace {

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

// Placeholders some clients send instead of leaving the header out.
bool is_placeholder(std::string_view token) {
  return token.empty() || token == "null" || token == "undefined";
}

}  // namespace

std::string_view cookie_value(std::string_view cookie_header, std::string_view name) {
  size_t pos = 0;
  while (pos < cookie_header.size()) {
    size_t semi = cookie_header.find(';', pos);
    if (semi == std::string_view::npos) semi = cookie_header.size();
    std::string_view pair = strings::trim_blanks(cookie_header.substr(pos, semi - pos));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && strings::trim_blanks(pair.substr(0, eq)) == name) {
      std::string_view v = strings::trim_blanks(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
    pos = semi + 1;
  }
  return {};
}

AuthInfo authenticate(const http::Headers& headers, std::string_view secret, int64_t now_s) {
  std::string_view bearer, cookie;
  for (const auto& h : headers) {
    if (bearer.empty() && h.name == "authorization" && iequals_prefix(h.value, "bearer ")) {
      bearer = strings::trim_blanks(std::string_view(h.value).substr(7));
    } else if (cookie.empty() && h.name == "cookie") {
      cookie = cookie_value(h.value, "token");
    }
  }
  AuthInfo info;
  bool any = false;
  for (std::string_view token : {bearer, cookie}) {
    if (is_placeholder(token)) continue;
    any = true;
    auto r = verify_jwt(secret, token, now_s);
    if (r.has_value()) {
      info.kind = AuthInfo::Kind::kUser;
      info.user_id = std::move(r.value());
      info.error.clear();
      return info;
    }
    if (info.error.empty()) info.error = r.error().message();
  }
  info.kind = any ? AuthInfo::Kind::kInvalid : AuthInfo::Kind::kGuest;
  return info;
}

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

std::string guest_owner_id(std::string_view umidtoken) {
  if (umidtoken.empty()) return "guest-anonymous";
  return "guest-" + sha256_hex(umidtoken).substr(0, 16);
}

std::string token_fingerprint(std::string_view token) { return sha256_hex(token).substr(0, 16); }

}  // namespace qp::mock
