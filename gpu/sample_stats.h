// Order statistics of a sample of measurements (latencies of repeated runs).
#ifndef GPUSLICE_GPU_SAMPLE_STATS_H_
#define GPUSLICE_GPU_SAMPLE_STATS_H_

#include <algorithm>
#include <cmath>
#include <vector>

namespace gpuslice {

// The q-quantile, interpolated linearly between order statistics (q = 0.5: the median).
// REQUIRES: !v.empty(), 0 <= q <= 1.
inline double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

inline double Median(std::vector<double> v) { return Quantile(std::move(v), 0.5); }

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_SAMPLE_STATS_H_
