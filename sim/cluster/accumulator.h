// TimeIntegral: the integral over simulated time of a piecewise-constant rate, kept exact at
// every change. Used for costs, SM-seconds held and time-averaged concurrency.
#ifndef GPUSLICE_SIM_CLUSTER_ACCUMULATOR_H_
#define GPUSLICE_SIM_CLUSTER_ACCUMULATOR_H_

#include "sim/engine/time.h"

namespace gpuslice {

class TimeIntegral {
 public:
  // The integral up to `now`, in rate × seconds. REQUIRES: now >= the last change.
  double ValueAt(SimTime now) const { return value_ + rate_ * SimToSeconds(now - last_); }
  double rate() const { return rate_; }

  // REQUIRES: now >= the last change.
  void AddRate(SimTime now, double delta) {
    value_ = ValueAt(now);
    last_ = now;
    rate_ += delta;
  }

 private:
  double value_ = 0;
  double rate_ = 0;
  SimTime last_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_CLUSTER_ACCUMULATOR_H_
