// Who the broker's ZAP handler admits (broker/zap_policy.h), without sockets.
#include "broker/zap_policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>

#include "common/zmq/curve_keys.h"

using qp::broker::AuthorizedKeys;
using qp::broker::decide_zap;
using qp::broker::load_authorized_keys;

namespace {

class KeyDir {
 public:
  KeyDir() {
    char tmpl[] = "/tmp/qp-zap-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~KeyDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(path_ + "/" + name) << text;
  }

 private:
  std::string path_;
};

std::string new_public_key() {
  auto k = qp::zmqx::generate_curve_keypair();
  REQUIRE(k.has_value());
  return k->public_key;
}

}  // namespace

TEST_CASE("zap policy: an authorised CURVE key is allowed, named by its file") {
  std::string key = new_public_key();
  AuthorizedKeys keys;
  keys.by_key.emplace(qp::zmqx::z85_to_bytes(key), "worker-host1");
  auto d = decide_zap(keys, "CURVE", qp::zmqx::z85_to_bytes(key));
  CHECK(d.allow);
  CHECK(std::string(d.status_code) == "200");
  CHECK(d.peer == "worker-host1");
  CHECK(d.fingerprint == qp::zmqx::key_fingerprint(key));
}

TEST_CASE("zap policy: unknown keys, other mechanisms and malformed keys are denied") {
  std::string key = new_public_key();
  AuthorizedKeys keys;
  keys.by_key.emplace(qp::zmqx::z85_to_bytes(key), "w1");

  std::string other = new_public_key();
  auto d = decide_zap(keys, "CURVE", qp::zmqx::z85_to_bytes(other));
  CHECK_FALSE(d.allow);
  CHECK(std::string(d.status_code) == "400");
  CHECK(d.status_text == "key not authorised");
  CHECK(d.peer.empty());
  CHECK(d.fingerprint == qp::zmqx::key_fingerprint(other));  // what the refusal log shows

  CHECK_FALSE(decide_zap(keys, "NULL", "").allow);
  CHECK_FALSE(decide_zap(keys, "PLAIN", qp::zmqx::z85_to_bytes(key)).allow);
  CHECK_FALSE(decide_zap(keys, "CURVE", key).allow);  // Z85 text, not the 32 bytes
  CHECK_FALSE(decide_zap(AuthorizedKeys{}, "CURVE", qp::zmqx::z85_to_bytes(key)).allow);
}

TEST_CASE("zap policy: the directory gives one peer per NAME.pub") {
  KeyDir dir;
  std::string a = new_public_key();
  std::string b = new_public_key();
  dir.write("alpha.pub", "# comment\n" + a + "\n");
  dir.write("beta.pub", b + "\n");
  dir.write("gamma.pub~", new_public_key() + "\n");  // an editor's backup: ignored
  dir.write(".hidden.pub", new_public_key() + "\n");
  dir.write("README", "not a key\n");
  auto loaded = load_authorized_keys(dir.path());
  CHECK(loaded.problems.empty());
  REQUIRE(loaded.keys.by_key.size() == 2);
  CHECK(loaded.keys.by_key.at(qp::zmqx::z85_to_bytes(a)) == "alpha");
  CHECK(loaded.keys.by_key.at(qp::zmqx::z85_to_bytes(b)) == "beta");
}

TEST_CASE("zap policy: bad key files and an unsafe directory are reported") {
  KeyDir dir;
  std::string a = new_public_key();
  dir.write("good.pub", a + "\n");
  dir.write("bad.pub", "not a key\n");
  dir.write("copy.pub", a + "\n");
  auto loaded = load_authorized_keys(dir.path());
  CHECK(loaded.keys.by_key.size() == 1);
  REQUIRE(loaded.problems.size() == 2);

  REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
  auto unsafe = load_authorized_keys(dir.path());
  CHECK(unsafe.keys.by_key.empty());
  REQUIRE(unsafe.problems.size() == 1);
  CHECK(unsafe.problems[0].find("chmod go-w") != std::string::npos);

  auto missing = load_authorized_keys(dir.path() + "/nope");
  CHECK(missing.keys.by_key.empty());
  CHECK(missing.problems.size() == 1);
}
