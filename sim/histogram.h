// LatencyHistogram: streaming quantiles of non-negative durations in constant memory.
//
// Buckets grow geometrically by 1% from 1 µs, so a reported quantile is within 0.5% of the
// exact order statistic (nearest-rank definition), clamped to the exact minimum and maximum;
// below 1 µs values share one bucket. Count, sum, mean, min and max are exact.
#ifndef GPUSLICE_SIM_HISTOGRAM_H_
#define GPUSLICE_SIM_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "sim/engine/time.h"

namespace gpuslice {

class LatencyHistogram {
 public:
  static constexpr double kRelativeError = 0.005;

  // REQUIRES: value >= 0.
  void Add(SimTime value);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  SimTime min() const { return count_ ? min_ : 0; }
  SimTime max() const { return count_ ? max_ : 0; }
  // The q-quantile, 0 <= q <= 1 (0 when empty).
  double Quantile(double q) const;

  // The counts per bucket, for writing the distribution out. Bucket 0 holds values below
  // 1 µs; bucket b >= 1 holds values in [BucketLowerNs(b), BucketLowerNs(b + 1)) (up to the
  // rounding of a logarithm at the bounds). Empty buckets past the largest value may be
  // absent, so the size is not fixed; empty when nothing was added.
  const std::vector<uint64_t>& buckets() const { return buckets_; }
  // The lower bound of bucket b in ns: 0 for b = 0, else 1 µs × 1.01^(b − 1).
  static double BucketLowerNs(size_t b);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ = 0;
  SimTime min_ = 0;
  SimTime max_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_HISTOGRAM_H_
