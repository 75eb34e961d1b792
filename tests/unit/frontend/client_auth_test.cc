// ClientAuth: the legacy api_key, keys-file keys (hashed, prefix, bearer
// parsing), models, limits and usage counters; clock injected.
#include "frontend/client_auth.h"

#include <catch2/catch.hpp>

using namespace qp;
using namespace qp::frontend;

namespace {

struct Fixture {
  uint64_t now = 5'000'000;
  ClientAuth auth;
  explicit Fixture(std::string api_key = "") : auth(std::move(api_key), [this] { return now; }) {}
};

keys::ClientKey make_key(const std::string& name, const std::string& secret) {
  keys::ClientKey k;
  k.name = name;
  k.hash = keys::hash_key(secret);
  return k;
}

const std::string kA = "qp-" + std::string(64, 'a');
const std::string kB = "qp-" + std::string(64, 'b');

std::string bearer(const std::string& k) { return "Bearer " + k; }

}  // namespace

TEST_CASE("no api_key and no keys file: open access") {
  Fixture f;
  Caller c;
  ApiError e;
  CHECK(f.auth.authenticate(nullptr, &c, &e));
  CHECK(c.id == kOpenAccessId);
}

TEST_CASE("legacy api_key: exact match, scheme case-insensitive, unlimited") {
  Fixture f("s3cret");
  Caller c;
  ApiError e;
  std::string ok = "Bearer s3cret", lower = "bearer  s3cret", wrong = "Bearer s3cre",
              basic = "Basic s3cret";
  CHECK(f.auth.authenticate(&ok, &c, &e));
  CHECK(c.id == kLegacyKeyId);
  CHECK(f.auth.authenticate(&lower, &c, &e));
  CHECK_FALSE(f.auth.authenticate(&wrong, &c, &e));
  CHECK(http_status(e) == 401);
  CHECK(e.error_code == "invalid_api_key");
  CHECK_FALSE(f.auth.authenticate(&basic, &c, &e));
  CHECK_FALSE(f.auth.authenticate(nullptr, &c, &e));
  CHECK(f.auth.unauthenticated() == 3);
  for (int i = 0; i < 100; ++i) {
    KeyLease l;
    CHECK(f.auth.admit(c, &l, &e));
  }
}

TEST_CASE("keys-file keys: found by hash, revoked by reload, legacy still works") {
  Fixture f("legacy");
  f.auth.set_keys({make_key("a", kA), make_key("b", kB)});
  Caller c;
  ApiError e;
  std::string ha = bearer(kA), hb = bearer(kB), hl = "Bearer legacy";
  REQUIRE(f.auth.authenticate(&ha, &c, &e));
  CHECK(c.key->name == "a");
  CHECK(c.id == keys::digest_hex(keys::hash_key(kA)).substr(0, 8));
  REQUIRE(f.auth.authenticate(&hb, &c, &e));
  CHECK(c.key->name == "b");
  f.auth.set_keys({make_key("b", kB)});
  CHECK(c.key->name == "b");  // the caller keeps its key set alive
  CHECK_FALSE(f.auth.authenticate(&ha, &c, &e));
  CHECK(f.auth.authenticate(&hl, &c, &e));
  // Without the prefix nothing matches, even the right hash.
  f.auth.set_keys({make_key("raw", "no-prefix")});
  std::string raw = "Bearer no-prefix";
  CHECK_FALSE(f.auth.authenticate(&raw, &c, &e));
}

TEST_CASE("an empty keys file still requires a key; no file opens") {
  Fixture f;
  f.auth.set_keys({});
  CHECK(f.auth.required());
  Caller c;
  ApiError e;
  std::string h = bearer(kA);
  CHECK_FALSE(f.auth.authenticate(&h, &c, &e));
  f.auth.clear_keys();
  CHECK(f.auth.authenticate(&h, &c, &e));
}

TEST_CASE("allowed models: 403 model_not_found for the others") {
  Fixture f;
  auto k = make_key("a", kA);
  k.models = {"qwen3-max"};
  f.auth.set_keys({k});
  Caller c;
  ApiError e;
  std::string h = bearer(kA);
  REQUIRE(f.auth.authenticate(&h, &c, &e));
  CHECK(f.auth.check_model(c, "qwen3-max", &e));
  CHECK_FALSE(f.auth.check_model(c, "qwen-plus", &e));
  CHECK(http_status(e) == 403);
  CHECK(std::string(error_type(e)) == "invalid_request_error");
  CHECK(e.error_code == "model_not_found");
  CHECK(f.auth.usage().at(c.id).rejected[static_cast<size_t>(Rejection::kModel)] == 1);
}

TEST_CASE("limits: 429 in OpenAI's shape, usage counted, slot freed by the lease") {
  Fixture f;
  auto k = make_key("a", kA);
  k.rpm = 2;
  k.tpm = 50;
  k.concurrency = 1;
  f.auth.set_keys({k});
  Caller c;
  ApiError e;
  std::string h = bearer(kA);
  REQUIRE(f.auth.authenticate(&h, &c, &e));
  {
    KeyLease l1;
    REQUIRE(f.auth.admit(c, &l1, &e));
    KeyLease l2;
    CHECK_FALSE(f.auth.admit(c, &l2, &e));
    CHECK(http_status(e) == 429);
    CHECK(e.retry_after_s == 1);
    CHECK(e.type == "requests");
    CHECK(e.error_code == "rate_limit_exceeded");
    protocol::Usage u;
    u.prompt_tokens = 40;
    u.completion_tokens = 20;
    l1.record_usage(u);
  }  // l1 released
  KeyLease l3;
  CHECK_FALSE(f.auth.admit(c, &l3, &e));  // 60 tokens >= 50
  CHECK(e.type == "tokens");
  CHECK(std::string(error_json(e)).find("\"type\":\"tokens\"") != std::string::npos);
  CHECK(e.message.find("tokens per min (TPM): Limit 50, Used 60") != std::string::npos);
  f.now += 61'000;
  REQUIRE(f.auth.admit(c, &l3, &e));
  KeyLease l4;
  l3.reset();
  REQUIRE(f.auth.admit(c, &l4, &e));
  l4.reset();
  KeyLease l5;
  CHECK_FALSE(f.auth.admit(c, &l5, &e));  // third request in the minute
  CHECK(e.message.find("requests per min (RPM): Limit 2, Used 2") != std::string::npos);
  const KeyUsage& u = f.auth.usage().at(c.id);
  CHECK(u.name == "a");
  CHECK(u.requests == 3);
  CHECK(u.prompt_tokens == 40);
  CHECK(u.completion_tokens == 20);
  CHECK(u.rejected[static_cast<size_t>(Rejection::kConcurrency)] == 1);
  CHECK(u.rejected[static_cast<size_t>(Rejection::kTpm)] == 1);
  CHECK(u.rejected[static_cast<size_t>(Rejection::kRpm)] == 1);
  CHECK(f.auth.limiter().in_flight(c.id) == 0);
}

TEST_CASE("identify (the /health detail level): any valid key, counts nothing") {
  SECTION("open access identifies everyone") {
    Fixture f;
    CHECK(f.auth.identify(nullptr, nullptr));
  }
  SECTION("legacy key and keys-file keys, whatever their limits") {
    Fixture f("legacy");
    keys::ClientKey narrow = make_key("narrow", kA);
    narrow.models = {"qwen3-max"};
    narrow.rpm = 1;
    f.auth.set_keys({narrow});
    // strings::auth_credentials: scheme in any case, blanks around the key.
    std::string a = "BEARER\t" + kA + " ", l = "  bearer legacy", wrong = bearer(kB),
                basic = "Basic legacy", bare = "Bearer";
    Caller c;
    CHECK(f.auth.identify(&a, &c));
    CHECK(c.key != nullptr);
    CHECK(c.key->name == "narrow");
    CHECK(f.auth.identify(&l, nullptr));
    CHECK_FALSE(f.auth.identify(&wrong, nullptr));
    CHECK_FALSE(f.auth.identify(&basic, nullptr));
    CHECK_FALSE(f.auth.identify(&bare, nullptr));
    CHECK_FALSE(f.auth.identify(nullptr, nullptr));
    CHECK(f.auth.unauthenticated() == 0);  // a probe without a key is not a failed login
    // Identifying admits nothing: the key's one request per minute is still there.
    ApiError e;
    KeyLease lease;
    CHECK(f.auth.admit(c, &lease, &e));
    // A revoked key no longer identifies.
    f.auth.set_keys({});
    CHECK_FALSE(f.auth.identify(&a, nullptr));
  }
}
