// Helpers shared by the libFuzzer targets (tests/fuzz/*.cc). Header-only.
//
// Splits are derived from the input itself (a hash seeds a small PRNG), so
// a corpus file is plain text of the format under test and one input always
// replays the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace qp::fuzz {

inline uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// xorshift64*: deterministic, seeded from the input.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed == 0 ? 0x9e3779b97f4a7c15ULL : seed) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 2685821657736338717ULL;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }

 private:
  uint64_t s_;
};

// Cuts `data` into pieces: mostly small (1..16 bytes, to hit every
// boundary), sometimes larger, sometimes empty.
inline std::vector<std::string_view> random_pieces(std::string_view data, uint64_t salt = 0) {
  Rng rng(fnv1a(data) ^ salt);
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t r = rng.below(16);
    size_t n = r < 10 ? 1 + rng.below(16) : r < 14 ? 1 + rng.below(256) : r < 15 ? 0 : 4096;
    if (n > data.size() - pos) n = data.size() - pos;
    out.push_back(data.substr(pos, n));
    pos += n;
  }
  return out;
}

// A finding that is not a crash (a broken invariant): report and abort, so
// libFuzzer saves the input.
[[noreturn]] inline void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\n%s\n", what, detail.c_str());
  std::abort();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read test data", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// QP_TESTDATA_DIR is set by tests/fuzz/CMakeLists.txt.
inline std::string testdata(const std::string& relative) {
  return read_file(std::string(QP_TESTDATA_DIR) + "/" + relative);
}

}  // namespace qp::fuzz
