#include "traces/poisson.h"

#include <cmath>

namespace gpuslice {

PoissonStream::PoissonStream(int32_t function, double rate_rps, SimTime start, SimTime end,
                             RngStream rng)
    : function_(function),
      mean_gap_ns_(1e9 / rate_rps),
      t_ns_(static_cast<double>(start)),
      end_(end),
      rng_(rng) {}

bool PoissonStream::Next(Arrival* out) {
  t_ns_ += rng_.Exponential(mean_gap_ns_);
  const SimTime t = std::llround(t_ns_);
  if (t >= end_) return false;
  *out = Arrival{t, function_};
  return true;
}

}  // namespace gpuslice
