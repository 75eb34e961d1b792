#include "tools/mock-qwen/jwt.h"

#include <ctime>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

namespace qp::mock {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &md_len);
  return std::string(reinterpret_cast<const char*>(md), md_len);
}

qp::Status malformed() { return qp::Status(qp::Code::kInvalidArgument, "malformed token"); }

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = b(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string* out) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  out->clear();
  out->reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = decode_char(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero in canonical encodings; tolerate them like most decoders.
  return true;
}

std::string mint_jwt(std::string_view secret, std::string_view user_id, int64_t exp_unix_s) {
  std::string payload = "{\"id\":\"";
  // User ids are uuids or e-mail-like strings; escape the two JSON specials anyway.
  for (char c : user_id) {
    if (c == '"' || c == '\\') payload.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    payload.push_back(c);
  }
  payload += "\",\"last_password_change\":";
  payload += std::to_string(static_cast<int64_t>(std::time(nullptr)));
  payload += ",\"exp\":";
  payload += std::to_string(exp_unix_s);
  payload += "}";
  std::string token = base64url_encode(kHeaderJson);
  token.push_back('.');
  token += base64url_encode(payload);
  std::string sig = hmac_sha256(secret, token);
  token.push_back('.');
  token += base64url_encode(sig);
  return token;
}

qp::Result<std::string> verify_jwt(std::string_view secret, std::string_view token,
                                   int64_t now_unix_s) {
  if (token.size() > 8192) return malformed();
  size_t d1 = token.find('.');
  if (d1 == std::string_view::npos) return malformed();
  size_t d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return malformed();
  }
  std::string header, payload, sig;
  if (!base64url_decode(token.substr(0, d1), &header) ||
      !base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), &payload) ||
      !base64url_decode(token.substr(d2 + 1), &sig)) {
    return malformed();
  }

  simdjson::ondemand::parser parser;
  {
    simdjson::padded_string h(header);
    simdjson::ondemand::document doc;
    std::string_view alg;
    if (parser.iterate(h).get(doc) || doc["alg"].get_string().get(alg)) return malformed();
    if (alg != "HS256") return malformed();
  }

  std::string expected = hmac_sha256(secret, token.substr(0, d2));
  if (sig.size() != expected.size() ||
      CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) != 0) {
    return qp::Status(qp::Code::kUpstreamAuth, "bad signature");
  }

  simdjson::padded_string p(payload);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(p).get(doc) || doc.get_object().get(obj)) return malformed();
  std::string id;
  int64_t exp = 0;
  bool have_id = false, have_exp = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed();
    if (key == "id") {
      std::string_view v;
      if (field.value().get_string().get(v)) return malformed();
      id.assign(v);
      have_id = true;
    } else if (key == "exp") {
      if (field.value().get_int64().get(exp)) return malformed();
      have_exp = true;
    }
  }
  if (!have_id || !have_exp || id.empty()) return malformed();
  if (now_unix_s >= exp) return qp::Status(qp::Code::kUpstreamAuth, "token expired");
  return id;
}

}  // namespace qp::mock
