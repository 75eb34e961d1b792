#include "tools/mock-qwen/jwt.h"

#include <ctime>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include "common/jwt.h"

namespace qp::mock {
namespace {

using jwt::base64url_decode;
using jwt::base64url_encode;

constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &md_len);
  return std::string(reinterpret_cast<const char*>(md), md_len);
}

qp::Status malformed() { return qp::Status(qp::Code::kInvalidArgument, "malformed token"); }

}  // namespace

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
