// FixedDecimal against its definition: the text of std::to_string(double) (printf "%f" in
// the C library), over hand-picked edge values and a million random doubles of every scale.
#include "sim/util/fixed_format.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace gpuslice {
namespace {

TEST(FixedDecimal, EdgeValuesMatchToString) {
  const double values[] = {0.0, -0.0, 1.0, -1.0, 0.5, 0.0000005, 0.0000015, 0.0000025, 2.5e-7, 1e-7,
                           0.1, 133.308884, 1e15, 1e16 + 1, 123456789.1234565, 0.9999995, 9.9999995,
                           std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                           std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min()};
  for (double v : values) EXPECT_EQ(FixedDecimal(v), std::to_string(v)) << v;
}

TEST(FixedDecimal, RandomValuesMatchToString) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-30, 30);
  std::uniform_int_distribution<uint64_t> bits;
  for (int i = 0; i < 500000; ++i) {
    const double scaled = std::ldexp(mantissa(rng), exponent(rng));
    ASSERT_EQ(FixedDecimal(scaled), std::to_string(scaled)) << scaled;
    // Concurrency-like values: non-negative with few decimals, where ties are likeliest.
    const double rounded = std::round(std::abs(scaled) * 1e7) / 1e7;
    ASSERT_EQ(FixedDecimal(rounded), std::to_string(rounded)) << rounded;
  }
  for (int i = 0; i < 20000; ++i) {  // any finite bit pattern, huge and tiny included
    const uint64_t b = bits(rng);
    double v;
    std::memcpy(&v, &b, sizeof v);
    if (!std::isfinite(v)) continue;
    ASSERT_EQ(FixedDecimal(v), std::to_string(v)) << v;
  }
}

}  // namespace
}  // namespace gpuslice
