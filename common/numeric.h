// Numbers from untrusted JSON. Header-only.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace qp {

// `d` as an int64_t, saturated at the type's range (NaN: 0). A plain cast of
// a double outside the range is undefined behaviour, and upstream JSON may
// carry any number (1e300 as a token count).
inline int64_t saturate_to_int64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (d <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

// a + b, saturated at int64's range (a plain signed overflow is undefined
// behaviour; upstream token counts may be anything up to INT64_MAX).
inline int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

}  // namespace qp
