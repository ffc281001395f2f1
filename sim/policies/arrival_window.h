// ArrivalWindow: how many requests of one model arrived over a sliding window, for the
// control loops of the autoscaling policies. It samples the executor's cumulative arrival
// count at each control tick, so it holds one entry per tick of the window, nothing per
// request, and adds no work to the arrival path.
#ifndef GPUSLICE_SIM_POLICIES_ARRIVAL_WINDOW_H_
#define GPUSLICE_SIM_POLICIES_ARRIVAL_WINDOW_H_

#include <cstdint>
#include <deque>
#include <utility>

#include "sim/engine/time.h"

namespace gpuslice {

class ArrivalWindow {
 public:
  // REQUIRES: window > 0. The count starts at 0 at time 0.
  explicit ArrivalWindow(SimTime window) : window_(window) { samples_.push_back({0, 0}); }

  // Records `cumulative` arrivals at `now` and returns the arrivals since the last sample at
  // or before now − window (or since time 0); *span, if given, gets that interval's length.
  // REQUIRES: now and cumulative never decrease.
  uint64_t Record(SimTime now, uint64_t cumulative, SimTime* span = nullptr) {
    samples_.push_back({now, cumulative});
    while (samples_.size() >= 2 && samples_[1].first <= now - window_) samples_.pop_front();
    if (span != nullptr) *span = now - samples_.front().first;
    return cumulative - samples_.front().second;
  }

 private:
  SimTime window_;
  std::deque<std::pair<SimTime, uint64_t>> samples_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_ARRIVAL_WINDOW_H_
