#include "common/ids.h"

#include <random>

namespace qp::ids {
namespace {
std::mt19937_64& rng() {
  thread_local std::mt19937_64 g{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                 std::random_device{}()};
  return g;
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string random_hex(size_t n) {
  std::string s(n, '0');
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < n; ++i) {
    if (left == 0) {
      bits = rng()();
      left = 16;
    }
    s[i] = kHex[bits & 0xF];
    bits >>= 4;
    --left;
  }
  return s;
}

std::string uuid4() {
  std::string h = random_hex(32);
  h[12] = '4';
  h[16] = kHex[8 + (std::uniform_int_distribution<int>(0, 3)(rng()))];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

}  // namespace qp::ids
