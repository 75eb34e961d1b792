// The keys file: parse, render, hashing, key format and constant-time lookup.
#include "common/keys/client_keys.h"

#include <catch2/catch.hpp>

using namespace qp::keys;

namespace {
const std::string kHashA = "sha256:" + std::string(64, 'a');
}

TEST_CASE("generated keys: prefix, 64 hex, distinct; id is the hash prefix") {
  auto a = generate_key();
  auto b = generate_key();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->starts_with("qp-"));
  CHECK(a->size() == 3 + 64);
  CHECK(a.value() != b.value());
  ClientKey k;
  k.hash = hash_key(a.value());
  CHECK(k.id() == digest_hex(k.hash).substr(0, 8));
  // SHA-256("abc")
  CHECK(digest_hex(hash_key("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("render then parse gives the same keys") {
  ClientKey a;
  a.name = "ci";
  a.hash = hash_key("qp-1");
  a.created = "2026-12-05T09:07:35Z";
  a.rpm = 60;
  a.tpm = 1000;
  a.concurrency = 2;
  a.models = {"qwen3-max", "qwen-plus"};
  ClientKey b;
  b.name = "web.app_2";
  b.hash = hash_key("qp-2");
  std::string text = render_keys_toml({a, b}, "comment line 1\nline 2");
  CHECK(text.starts_with("# comment line 1\n# line 2\n"));
  CHECK(text.find("qp-1") == std::string::npos);
  auto parsed = parse_keys_toml(text, "keys.toml");
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 2);
  CHECK((*parsed)[0].name == "ci");
  CHECK((*parsed)[0].hash == a.hash);
  CHECK((*parsed)[0].rpm == 60);
  CHECK((*parsed)[0].tpm == 1000);
  CHECK((*parsed)[0].concurrency == 2);
  CHECK((*parsed)[0].models == a.models);
  CHECK((*parsed)[0].created == a.created);
  CHECK((*parsed)[1].models.empty());
  CHECK((*parsed)[1].allows_model("anything"));
  CHECK_FALSE((*parsed)[0].allows_model("other"));
}

TEST_CASE("empty and comment-only files have no keys") {
  CHECK(parse_keys_toml("", "f")->empty());
  CHECK(parse_keys_toml("# nothing\n", "f")->empty());
}

TEST_CASE("bad files: clear errors that name the file and never show a hash") {
  auto err = [](const std::string& text) {
    auto r = parse_keys_toml(text, "/etc/k.toml");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().starts_with("/etc/k.toml"));
    CHECK(r.error().message().find(std::string(64, 'a')) == std::string::npos);
    return r.error().message();
  };
  CHECK_THAT(err("[[keys]\n"), Catch::Contains("not valid TOML"));
  CHECK_THAT(err("foo = 1\n"), Catch::Contains("unknown key 'foo'"));
  CHECK_THAT(err("keys = 1\n"), Catch::Contains("array of tables"));
  CHECK_THAT(err("[[keys]]\nhash = \"" + kHashA + "\"\n"), Catch::Contains("missing name"));
  CHECK_THAT(err("[[keys]]\nname = \"a b\"\nhash = \"" + kHashA + "\"\n"),
             Catch::Contains("invalid name"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\n"), Catch::Contains("missing hash"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\nhash = \"sha256:" + std::string(63, 'a') + "\"\n"),
             Catch::Contains("64 lower-case hex"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\nhash = \"sha256:" + std::string(64, 'A') + "\"\n"),
             Catch::Contains("64 lower-case hex"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\nhash = \"" + kHashA + "\"\nrpm = -1\n"),
             Catch::Contains("rpm must be an integer"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\nhash = \"" + kHashA + "\"\ntpm = 1.5\n"),
             Catch::Contains("tpm must be an integer"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\nhash = \"" + kHashA + "\"\nmodels = \"x\"\n"),
             Catch::Contains("models must be an array"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\nhash = \"" + kHashA + "\"\nmodels = [\"\"]\n"),
             Catch::Contains("non-empty strings"));
  CHECK_THAT(err("[[keys]]\nname = \"a\"\nhash = \"" + kHashA + "\"\nrmp = 1\n"),
             Catch::Contains("unknown key 'rmp'"));
  std::string two = "[[keys]]\nname = \"a\"\nhash = \"" + kHashA + "\"\n";
  CHECK_THAT(err(two + two), Catch::Contains("duplicate name 'a'"));
  CHECK_THAT(err(two + "[[keys]]\nname = \"b\"\nhash = \"" + kHashA + "\"\n"),
             Catch::Contains("same id"));
}

TEST_CASE("KeyStore::find matches the exact key only") {
  ClientKey a;
  a.name = "a";
  a.hash = hash_key("qp-alpha");
  ClientKey b;
  b.name = "b";
  b.hash = hash_key("qp-beta");
  KeyStore store({a, b});
  REQUIRE(store.find("qp-alpha") != nullptr);
  CHECK(store.find("qp-alpha")->name == "a");
  CHECK(store.find("qp-beta")->name == "b");
  CHECK(store.find("qp-alph") == nullptr);
  CHECK(store.find("qp-alphaa") == nullptr);
  CHECK(store.find("") == nullptr);
  CHECK(KeyStore().find("qp-alpha") == nullptr);
  // The hash of a key without the prefix never matches.
  ClientKey c;
  c.name = "c";
  c.hash = hash_key("plain");
  CHECK(KeyStore({c}).find("plain") == nullptr);
}

TEST_CASE("key names") {
  CHECK(valid_key_name("ci"));
  CHECK(valid_key_name("web.app-2_x"));
  CHECK_FALSE(valid_key_name(""));
  CHECK_FALSE(valid_key_name(".hidden"));
  CHECK_FALSE(valid_key_name("a/b"));
  CHECK_FALSE(valid_key_name(std::string(65, 'a')));
}
