#include "common/zmq/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <openssl/sha.h>
#include <zmq.h>

#include "common/accounts/private_file.h"
#include "common/strings.h"

namespace qp::zmqx {
namespace {

constexpr size_t kMaxPublicKeyFileBytes = 4096;

bool valid_z85_key(std::string_view s) {
  if (s.size() != kZ85KeyChars) return false;
  std::array<char, kZ85KeyChars + 1> z{};
  std::memcpy(z.data(), s.data(), s.size());
  std::array<uint8_t, kCurveKeyBytes> raw{};
  return zmq_z85_decode(raw.data(), z.data()) != nullptr;
}

Result<std::string> read_public_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return error(Code::kIo, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  std::string out;
  Status bad;
  if (::fstat(fd, &st) != 0) {
    bad = error(Code::kIo, "cannot stat " + path + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    bad = error(Code::kInvalidArgument, path + " is not a regular file");
  } else {
    out.resize(kMaxPublicKeyFileBytes + 1);
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        bad = error(Code::kIo, "cannot read " + path + ": " + std::strerror(errno));
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    if (bad.ok() && got > kMaxPublicKeyFileBytes)
      bad = error(Code::kInvalidArgument, path + " is too large for a key file");
  }
  ::close(fd);
  if (!bad.ok()) return bad;
  return out;
}

}  // namespace

Result<CurveKeypair> generate_curve_keypair() {
  std::array<char, kZ85KeyChars + 1> pub{};
  std::array<char, kZ85KeyChars + 1> sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    return error(Code::kInternal,
                 std::string("cannot generate a CurveZMQ key pair: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeypair{std::string(pub.data(), kZ85KeyChars), std::string(sec.data(), kZ85KeyChars)};
}

Result<std::string> parse_key_text(std::string_view text, const std::string& path) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = strings::trim_blanks(line);
    if (line.empty() || line.front() == '#') continue;
    if (!valid_z85_key(line)) {
      return error(Code::kInvalidArgument,
                   path +
                       ": not a CurveZMQ key (expected 40 Z85 characters, as written by "
                       "`qwenproxy curve-keys generate`)");
    }
    return std::string(line);
  }
  return error(Code::kInvalidArgument, path + ": no key in the file");
}

Result<std::string> load_public_key(const std::string& path) {
  auto text = read_public_file(path);
  if (!text) return text.error();
  return parse_key_text(*text, path);
}

Result<CurveKeypair> load_secret_key(const std::string& path) {
  auto text = accounts::read_private_file(path, kMaxPublicKeyFileBytes);
  if (!text) return text.error();
  auto secret = parse_key_text(*text, path);
  if (!secret) return secret.error();
  std::array<char, kZ85KeyChars + 1> pub{};
  if (zmq_curve_public(pub.data(), secret->c_str()) != 0) {
    return error(Code::kInvalidArgument, path + ": cannot derive the public key from this key");
  }
  return CurveKeypair{std::string(pub.data(), kZ85KeyChars), std::move(*secret)};
}

std::string z85_to_bytes(std::string_view z85) {
  if (z85.size() != kZ85KeyChars) return {};
  std::array<char, kZ85KeyChars + 1> z{};
  std::memcpy(z.data(), z85.data(), z85.size());
  std::string raw(kCurveKeyBytes, '\0');
  if (zmq_z85_decode(reinterpret_cast<uint8_t*>(raw.data()), z.data()) == nullptr) return {};
  return raw;
}

std::string key_fingerprint(std::string_view key) {
  std::string raw = key.size() == kCurveKeyBytes ? std::string(key) : z85_to_bytes(key);
  if (raw.empty()) return "SHA256:invalid";
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), d.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "SHA256:";
  for (size_t i = 0; i < 8; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

std::string secret_key_file_text(std::string_view name, const CurveKeypair& pair) {
  std::string out = "# qwenproxy CurveZMQ secret key \"";
  out += name;
  out +=
      "\". Keep it private (mode 0600), on this host only.\n"
      "# Its public key is in ";
  out += name;
  out += ".pub (fingerprint " + key_fingerprint(pair.public_key) + ").\n";
  out += pair.secret_key;
  out += '\n';
  return out;
}

std::string public_key_file_text(std::string_view name, const CurveKeypair& pair) {
  std::string out = "# qwenproxy CurveZMQ public key \"";
  out += name;
  out += "\" (fingerprint " + key_fingerprint(pair.public_key) +
         ").\n# Copy it into the broker's authorized_keys_dir to let this peer in.\n";
  out += pair.public_key;
  out += '\n';
  return out;
}

}  // namespace qp::zmqx
