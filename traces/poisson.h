// PoissonStream: a homogeneous Poisson process of one function over [start, end).
#ifndef GPUSLICE_TRACES_POISSON_H_
#define GPUSLICE_TRACES_POISSON_H_

#include "sim/engine/rng.h"
#include "traces/arrival_stream.h"

namespace gpuslice {

class PoissonStream final : public ArrivalStream {
 public:
  // REQUIRES: rate_rps > 0, start <= end.
  PoissonStream(int32_t function, double rate_rps, SimTime start, SimTime end, RngStream rng);
  bool Next(Arrival* out) override;

 private:
  int32_t function_;
  double mean_gap_ns_;
  double t_ns_;  // kept in double so that rounding does not accumulate
  SimTime end_;
  RngStream rng_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_POISSON_H_
