#include "common/jwt.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace qp::jwt {
namespace {

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// A minimal scanner for the top level of a JSON object: enough to find one
// numeric member without pulling a JSON library into qp_common. Nested values
// are skipped structurally (strings with escapes, objects, arrays).
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  // Finds top-level member `name` and parses it as a number.
  // Returns: 1 found and *out set, 0 absent, -1 malformed or not a number.
  int find_number(std::string_view name, double* out) {
    skip_ws();
    if (!eat('{')) return -1;
    skip_ws();
    if (eat('}')) return 0;
    while (true) {
      skip_ws();
      std::string key;
      if (!read_string(&key)) return -1;
      skip_ws();
      if (!eat(':')) return -1;
      skip_ws();
      if (key == name) {
        size_t start = i_;
        if (!skip_number()) return -1;
        std::string num(s_.substr(start, i_ - start));
        char* end = nullptr;
        double v = std::strtod(num.c_str(), &end);
        if (end == nullptr || *end != '\0' || !std::isfinite(v)) return -1;
        *out = v;
        return 1;
      }
      if (!skip_value(0)) return -1;
      skip_ws();
      if (eat(',')) continue;
      if (eat('}')) return 0;
      return -1;
    }
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool at_end() const { return i_ >= s_.size(); }
  bool eat(char c) {
    if (!at_end() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void skip_ws() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  // Reads a string; simple escapes are decoded, \uXXXX is kept verbatim
  // (good enough to compare ASCII member names).
  bool read_string(std::string* out) {
    if (!eat('"')) return false;
    while (!at_end()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (at_end()) return false;
        char e = s_[i_++];
        switch (e) {
          case 'n':
            out->push_back('\n');
            break;
          case 't':
            out->push_back('\t');
            break;
          case 'r':
            out->push_back('\r');
            break;
          case 'b':
            out->push_back('\b');
            break;
          case 'f':
            out->push_back('\f');
            break;
          case 'u':
            out->append("\\u");
            break;
          default:
            out->push_back(e);
            break;
        }
      } else {
        out->push_back(c);
      }
    }
    return false;
  }
  bool skip_number() {
    size_t start = i_;
    eat('-');
    while (!at_end() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                         s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
      ++i_;
    }
    return i_ > start && s_[i_ - 1] != '-';
  }
  bool skip_literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool skip_value(int depth) {
    if (depth > kMaxDepth || at_end()) return false;
    char c = s_[i_];
    if (c == '"') {
      std::string ignored;
      return read_string(&ignored);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i_;
      skip_ws();
      if (eat(close)) return true;
      while (true) {
        skip_ws();
        if (c == '{') {
          std::string ignored;
          if (!read_string(&ignored)) return false;
          skip_ws();
          if (!eat(':')) return false;
          skip_ws();
        }
        if (!skip_value(depth + 1)) return false;
        skip_ws();
        if (eat(',')) continue;
        return eat(close);
      }
    }
    if (c == 't') return skip_literal("true");
    if (c == 'f') return skip_literal("false");
    if (c == 'n') return skip_literal("null");
    return skip_number();
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

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
  double exp = 0;
  switch (Scanner(payload).find_number("exp", &exp)) {
    case 1:
      break;
    case 0:
      return error(Code::kInvalidArgument, "JWT payload has no exp claim");
    default:
      return error(Code::kInvalidArgument,
                   "JWT payload is not a JSON object with a numeric exp claim");
  }
  if (exp < 0 || exp > 9.2e18)
    return error(Code::kInvalidArgument, "JWT exp claim is out of range");
  return static_cast<int64_t>(exp);
}

}  // namespace qp::jwt
