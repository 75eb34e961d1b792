#include "tools/mock-qwen/ids.h"

namespace qp::mock {

IdGenerator::IdGenerator() {
  std::random_device rd;
  rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
}

IdGenerator::IdGenerator(uint64_t seed) : rng_(seed) {}

std::string IdGenerator::uuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = rng_();
  uint64_t lo = rng_();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // variant 10xx
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[static_cast<size_t>(pos++)] = kHex[(v >> (i * 4)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

}  // namespace qp::mock
