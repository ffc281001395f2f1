// Synthetic workload generators, each an ArrivalStream of one function (the population
// generator makes many functions, merged).
//
//   gamma:   renewal process with gamma inter-arrival times of the given mean rate and
//            coefficient of variation (cv = 1 is Poisson; cv > 1 bursty; cv < 1 regular);
//   mmpp:    two-state Markov-modulated Poisson process: rate r_i while in state i, state
//            sojourns exponential with means s_i (bursts);
//   diurnal: non-homogeneous Poisson process with rate mean·(1 + amplitude·cos(2π(t − peak)
//            / period)), drawn by thinning (Lewis and Shedler, 1979).
#ifndef GPUSLICE_TRACES_GENERATORS_H_
#define GPUSLICE_TRACES_GENERATORS_H_

#include "sim/engine/rng.h"
#include "traces/arrival_stream.h"

namespace gpuslice {

// Gamma(shape, scale) variate (Marsaglia and Tsang, 2000; shape < 1 by boosting).
double GammaVariate(RngStream& rng, double shape, double scale);

class GammaStream final : public ArrivalStream {
 public:
  // REQUIRES: rate_rps > 0, cv > 0.
  GammaStream(int32_t function, double rate_rps, double cv, SimTime start, SimTime end, RngStream rng);
  bool Next(Arrival* out) override;

 private:
  int32_t function_;
  double shape_, scale_ns_;
  double t_ns_;
  SimTime end_;
  RngStream rng_;
};

class MmppStream final : public ArrivalStream {
 public:
  // REQUIRES: rates >= 0 (not both 0), sojourns > 0.
  MmppStream(int32_t function, double rate0_rps, double rate1_rps, double sojourn0_s, double sojourn1_s, SimTime start,
             SimTime end, RngStream rng);
  bool Next(Arrival* out) override;

 private:
  int32_t function_;
  double rate_[2];
  double sojourn_ns_[2];
  int state_ = 0;
  double t_ns_;
  double state_end_ns_;
  SimTime end_;
  RngStream rng_;
};

class DiurnalStream final : public ArrivalStream {
 public:
  // REQUIRES: mean_rps > 0, 0 <= amplitude <= 1, period_s > 0.
  DiurnalStream(int32_t function, double mean_rps, double amplitude, double period_s, double peak_s, SimTime start,
                SimTime end, RngStream rng);
  bool Next(Arrival* out) override;

 private:
  int32_t function_;
  double mean_, amplitude_, period_ns_, peak_ns_;
  double t_ns_;
  SimTime end_;
  RngStream rng_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_GENERATORS_H_
