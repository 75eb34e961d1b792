#include "common/keys/client_keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <toml++/toml.h>

#include "common/accounts/account_file.h"
#include "common/strings.h"

namespace qp::keys {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kHashPrefix = "sha256:";
constexpr int64_t kMaxLimit = 1'000'000'000'000;
constexpr size_t kMaxModelName = 256;

Status bad(const std::string& where, const std::string& what) {
  return error(Code::kInvalidArgument, where + ": " + what);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool parse_digest(std::string_view text, Digest* out) {
  if (!text.starts_with(kHashPrefix)) return false;
  text.remove_prefix(kHashPrefix.size());
  if (text.size() != out->size() * 2) return false;
  for (size_t i = 0; i < out->size(); ++i) {
    int hi = hex_value(text[2 * i]);
    int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

Status read_limit(const toml::table& t, const char* key, const std::string& where, uint64_t* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status();
  auto v = n->value_exact<int64_t>();
  if (!v || *v < 0 || *v > kMaxLimit) {
    return bad(where, std::string(key) + " must be an integer from 0 (unlimited) to " +
                          std::to_string(kMaxLimit));
  }
  *out = static_cast<uint64_t>(*v);
  return Status();
}

Status parse_entry(const toml::table& t, const std::string& where, ClientKey* k) {
  for (const auto& [key, node] : t) {
    std::string_view name = key.str();
    if (name != "name" && name != "hash" && name != "created" && name != "rpm" && name != "tpm" &&
        name != "concurrency" && name != "models") {
      return bad(where, "unknown key '" + std::string(name) +
                            "' (known keys: name, hash, created, rpm, tpm, concurrency, models)");
    }
  }
  auto name = t["name"].value<std::string>();
  if (!name) return bad(where, "missing name (a string)");
  if (!valid_key_name(*name)) {
    return bad(where, "invalid name: use 1 to 64 letters, digits, '-', '_' or '.'");
  }
  k->name = *name;
  std::string w = where + " '" + k->name + "'";
  auto hash = t["hash"].value<std::string>();
  if (!hash) return bad(w, "missing hash (\"sha256:\" and 64 hex characters)");
  if (!parse_digest(*hash, &k->hash)) {
    return bad(w, "hash must be \"sha256:\" followed by 64 lower-case hex characters");
  }
  if (const toml::node* c = t.get("created")) {
    auto v = c->value<std::string>();
    if (!v) return bad(w, "created must be a string");
    k->created = *v;
  }
  if (Status s = read_limit(t, "rpm", w, &k->rpm); !s.ok()) return s;
  if (Status s = read_limit(t, "tpm", w, &k->tpm); !s.ok()) return s;
  if (Status s = read_limit(t, "concurrency", w, &k->concurrency); !s.ok()) return s;
  if (const toml::node* m = t.get("models")) {
    const toml::array* a = m->as_array();
    if (a == nullptr) return bad(w, "models must be an array of model names");
    for (const auto& e : *a) {
      auto v = e.value<std::string>();
      if (!v || v->empty() || v->size() > kMaxModelName) {
        return bad(w, "models must hold non-empty strings of at most 256 bytes");
      }
      k->models.push_back(*v);
    }
  }
  return Status();
}

}  // namespace

std::string ClientKey::id() const { return digest_hex(hash).substr(0, kIdChars); }

bool ClientKey::allows_model(std::string_view model) const {
  if (models.empty()) return true;
  for (const auto& m : models) {
    if (m == model) return true;
  }
  return false;
}

Result<std::string> generate_key() {
  unsigned char bytes[kKeyHexChars / 2];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return error(Code::kInternal, "the random number generator failed");
  }
  std::string key(kKeyPrefix);
  for (unsigned char b : bytes) {
    key.push_back(kHex[b >> 4]);
    key.push_back(kHex[b & 0xF]);
  }
  OPENSSL_cleanse(bytes, sizeof bytes);
  return key;
}

Digest hash_key(std::string_view key) {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d.data());
  return d;
}

std::string digest_hex(const Digest& d) {
  std::string s;
  s.reserve(d.size() * 2);
  for (unsigned char b : d) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 0xF]);
  }
  return s;
}

bool valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

Result<std::vector<ClientKey>> parse_keys_toml(std::string_view text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return bad(origin, "not valid TOML: " + std::string(e.description()) + " at line " +
                           std::to_string(e.source().begin.line));
  } catch (const std::exception& e) {
    return bad(origin, std::string("not valid TOML: ") + e.what());
  }
  std::vector<ClientKey> out;
  for (const auto& [key, node] : root) {
    if (key.str() != "keys") {
      return bad(origin, "unknown key '" + std::string(key.str()) + "' (expected [[keys]] tables)");
    }
  }
  const toml::node* keys = root.get("keys");
  if (keys == nullptr) return out;
  const toml::array* arr = keys->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return bad(origin, "'keys' must be an array of tables ([[keys]])");
  }
  if (arr->size() > kMaxKeys) {
    return bad(origin, "more than " + std::to_string(kMaxKeys) + " keys");
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    ClientKey k;
    std::string where = origin + ": keys[" + std::to_string(i) + "]";
    if (Status s = parse_entry(*arr->get(i)->as_table(), where, &k); !s.ok()) return s;
    for (const auto& prev : out) {
      if (prev.name == k.name) return bad(where, "duplicate name '" + k.name + "'");
      if (prev.id() == k.id()) {
        return bad(where,
                   "'" + k.name + "' has the same id as '" + prev.name + "' (the same key twice?)");
      }
    }
    out.push_back(std::move(k));
  }
  return out;
}

std::string render_keys_toml(const std::vector<ClientKey>& keys, std::string_view comment) {
  std::string out;
  strings::append_comment_lines(&out, comment);
  for (const auto& k : keys) {
    out += "\n[[keys]]\n";
    out += "name = " + accounts::toml_quote(k.name) + "\n";
    out += "hash = \"" + std::string(kHashPrefix) + digest_hex(k.hash) + "\"\n";
    if (!k.created.empty()) out += "created = " + accounts::toml_quote(k.created) + "\n";
    out += "rpm = " + std::to_string(k.rpm) + "\n";
    out += "tpm = " + std::to_string(k.tpm) + "\n";
    out += "concurrency = " + std::to_string(k.concurrency) + "\n";
    out += "models = [";
    for (size_t i = 0; i < k.models.size(); ++i) {
      if (i > 0) out += ", ";
      out += accounts::toml_quote(k.models[i]);
    }
    out += "]\n";
  }
  return out;
}

const ClientKey* KeyStore::find(std::string_view presented) const {
  if (!presented.starts_with(kKeyPrefix)) return nullptr;
  Digest d = hash_key(presented);
  const ClientKey* hit = nullptr;
  // Every entry is compared, so the time does not depend on where (or
  // whether) the key matches.
  for (const auto& k : keys_) {
    bool same = CRYPTO_memcmp(k.hash.data(), d.data(), d.size()) == 0;
    hit = same ? &k : hit;
  }
  return hit;
}

}  // namespace qp::keys
