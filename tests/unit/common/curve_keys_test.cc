// CurveZMQ key files (common/zmq/curve_keys.h): generation, parsing, the
// private-mode check on secret keys, fingerprints.
#include "common/zmq/curve_keys.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

using qp::zmqx::CurveKeypair;

namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qp-curve-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p;
  }

 private:
  std::string path_;
};

CurveKeypair fresh() {
  auto k = qp::zmqx::generate_curve_keypair();
  REQUIRE(k.has_value());
  return *k;
}

}  // namespace

TEST_CASE("curve keys: a generated pair is two distinct 40-character Z85 keys") {
  CurveKeypair k = fresh();
  CHECK(k.public_key.size() == qp::zmqx::kZ85KeyChars);
  CHECK(k.secret_key.size() == qp::zmqx::kZ85KeyChars);
  CHECK(k.public_key != k.secret_key);
  CHECK(qp::zmqx::z85_to_bytes(k.public_key).size() == qp::zmqx::kCurveKeyBytes);
  CHECK(fresh().public_key != k.public_key);
}

TEST_CASE("curve keys: the key is the first line that is not blank or a comment") {
  CurveKeypair k = fresh();
  auto got = qp::zmqx::parse_key_text("# a comment\n\n  " + k.public_key + "  \r\nrest\n", "f");
  REQUIRE(got.has_value());
  CHECK(*got == k.public_key);

  auto none = qp::zmqx::parse_key_text("# only comments\n\n", "/x/f.pub");
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().message() == "/x/f.pub: no key in the file");
  CHECK_FALSE(qp::zmqx::parse_key_text(k.public_key.substr(0, 39), "f").has_value());
  CHECK_FALSE(qp::zmqx::parse_key_text(k.public_key + "x", "f").has_value());
  std::string bad = k.public_key;
  bad[3] = '"';  // not in the Z85 alphabet
  auto err = qp::zmqx::parse_key_text(bad, "f.pub");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.error().message().find(bad) == std::string::npos);  // never echoes the content
}

TEST_CASE("curve keys: the files written by curve-keys load back, the public key derived") {
  TempDir dir;
  CurveKeypair k = fresh();
  std::string sec = dir.write("w1.key", qp::zmqx::secret_key_file_text("w1", k), 0600);
  std::string pub = dir.write("w1.pub", qp::zmqx::public_key_file_text("w1", k), 0644);
  auto loaded = qp::zmqx::load_secret_key(sec);
  REQUIRE(loaded.has_value());
  CHECK(loaded->secret_key == k.secret_key);
  CHECK(loaded->public_key == k.public_key);
  auto p = qp::zmqx::load_public_key(pub);
  REQUIRE(p.has_value());
  CHECK(*p == k.public_key);
  // The public file does not hold the secret; the secret file names its public fingerprint.
  CHECK(qp::zmqx::public_key_file_text("w1", k).find(k.secret_key) == std::string::npos);
  CHECK(qp::zmqx::secret_key_file_text("w1", k).find(qp::zmqx::key_fingerprint(k.public_key)) !=
        std::string::npos);
}

TEST_CASE("curve keys: a secret key file others may read is refused, without its content") {
  TempDir dir;
  CurveKeypair k = fresh();
  for (mode_t mode : {0640, 0604, 0660, 0644}) {
    std::string sec = dir.write("s.key", qp::zmqx::secret_key_file_text("s", k), mode);
    auto loaded = qp::zmqx::load_secret_key(sec);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().message().find("chmod 600") != std::string::npos);
    CHECK(loaded.error().message().find(k.secret_key) == std::string::npos);
  }
  CHECK_FALSE(qp::zmqx::load_secret_key("/nonexistent/x.key").has_value());
  // A public key file needs no private mode.
  std::string pub = dir.write("p.pub", k.public_key + "\n", 0644);
  CHECK(qp::zmqx::load_public_key(pub).has_value());
}

TEST_CASE("curve keys: the fingerprint is the same for Z85 and raw bytes, and short") {
  CurveKeypair k = fresh();
  std::string fp = qp::zmqx::key_fingerprint(k.public_key);
  CHECK(fp.rfind("SHA256:", 0) == 0);
  CHECK(fp.size() == 7 + 16);
  CHECK(qp::zmqx::key_fingerprint(qp::zmqx::z85_to_bytes(k.public_key)) == fp);
  CHECK(qp::zmqx::key_fingerprint(fresh().public_key) != fp);
  CHECK(qp::zmqx::key_fingerprint("nonsense") == "SHA256:invalid");
}
