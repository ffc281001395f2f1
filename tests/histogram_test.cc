#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/rng.h"
#include "sim/histogram.h"

namespace gpuslice {
namespace {

TEST(LatencyHistogram, QuantilesWithinStatedErrorOfExactOrderStatistics) {
  RngStream rng(1, "hist");
  LatencyHistogram h;
  std::vector<SimTime> values;
  for (int i = 0; i < 100000; ++i) {
    SimTime v = static_cast<SimTime>(20e6 * rng.LogNormalMeanOne(1.5));
    values.push_back(v);
    h.Add(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
    double exact = static_cast<double>(values[rank - 1]);
    EXPECT_NEAR(h.Quantile(q) / exact, 1.0, LatencyHistogram::kRelativeError + 1e-9) << "q=" << q;
  }
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  double sum = 0;
  for (SimTime v : values) sum += static_cast<double>(v);
  EXPECT_DOUBLE_EQ(h.mean(), sum / values.size());
}

TEST(LatencyHistogram, EmptyAndSingleValue) {
  LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.5), 0.0);
  h.Add(12345678);
  EXPECT_EQ(h.Quantile(0.0), 12345678.0);
  EXPECT_EQ(h.Quantile(0.99), 12345678.0);
}

TEST(LatencyHistogram, MergeEqualsAddingAll) {
  LatencyHistogram a, b, all;
  for (SimTime v = 1000; v < 5'000'000'000; v = v * 3 / 2 + 7) {
    ((v % 2) ? a : b).Add(v);
    all.Add(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double q : {0.1, 0.5, 0.9}) EXPECT_EQ(a.Quantile(q), all.Quantile(q));
}

}  // namespace
}  // namespace gpuslice
