// Statistics over replications (seeds): the mean and a two-sided 95% Student-t confidence
// interval, t quantiles from Boost.Math.
#ifndef GPUSLICE_SIM_UTIL_STATS_H_
#define GPUSLICE_SIM_UTIL_STATS_H_

#include <vector>

namespace gpuslice {

// t_{0.975, df}. REQUIRES: df >= 1.
double StudentT975(int degrees_of_freedom);

struct MeanCi95 {
  double mean = 0;
  double half_width = 0;  // 0 for fewer than two values
  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
};

// REQUIRES: !values.empty().
MeanCi95 MeanWithCi95(const std::vector<double>& values);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_STATS_H_
