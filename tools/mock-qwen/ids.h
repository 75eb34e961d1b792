// Random identifiers: UUID v4 strings for chat ids, message ids and
// request ids. Not cryptographic; owned by one loop thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace qp::mock {

class IdGenerator {
 public:
  IdGenerator();                        // seeded from std::random_device
  explicit IdGenerator(uint64_t seed);  // deterministic, for tests
  // "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower-case hex.
  std::string uuid();

 private:
  std::mt19937_64 rng_;
};

}  // namespace qp::mock
