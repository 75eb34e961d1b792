#include "common/jwt.h"

#include <cmath>

#include <simdjson.h>

namespace qp::jwt {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = b(i) << 16;
    if (rest == 2) v |= b(i + 1) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(std::string_view in, std::string* out) {
  out->clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64url_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

Result<int64_t> expiry_unix_s(std::string_view token) {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return error(Code::kInvalidArgument, "not a JWT: expected three dot-separated segments");
  }
  std::string payload;
  if (!base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), &payload)) {
    return error(Code::kInvalidArgument, "JWT payload is not valid base64url");
  }
  simdjson::dom::parser parser;  // cold path: once per credential load
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(payload).get(doc) || doc.get_object().get(obj)) {
    return error(Code::kInvalidArgument,
                 "JWT payload is not a JSON object with a numeric exp claim");
  }
  simdjson::dom::element exp_el;
  if (obj["exp"].get(exp_el)) return error(Code::kInvalidArgument, "JWT payload has no exp claim");
  double exp = 0;
  if (exp_el.get_double().get(exp) || !std::isfinite(exp) || exp < 0 || exp > 9.2e18) {
    return error(Code::kInvalidArgument, "JWT exp claim is not a non-negative number");
  }
  return static_cast<int64_t>(exp);
}

}  // namespace qp::jwt
