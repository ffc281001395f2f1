#include "sim/util/stats.h"

#include <cmath>

#include <boost/math/distributions/students_t.hpp>

namespace gpuslice {

double StudentT975(int df) {
  return boost::math::quantile(boost::math::students_t_distribution<double>(static_cast<double>(df)), 0.975);
}

MeanCi95 MeanWithCi95(const std::vector<double>& values) {
  MeanCi95 r;
  const double n = static_cast<double>(values.size());
  for (double v : values) r.mean += v / n;
  if (values.size() < 2) return r;
  double squares = 0;
  for (double v : values) squares += (v - r.mean) * (v - r.mean);
  const double sd = std::sqrt(squares / (n - 1));
  r.half_width = StudentT975(static_cast<int>(values.size()) - 1) * sd / std::sqrt(n);
  return r;
}

}  // namespace gpuslice
