// ArrivalWindow: how many requests of one model arrived over a sliding window, for the
// control loops of the autoscaling policies. It samples the executor's cumulative arrival
// count at each control tick, so it holds one entry per tick of the window, nothing per
// request, and adds no work to the arrival path.
#ifndef GPUSLICE_SIM_POLICIES_ARRIVAL_WINDOW_H_
#define GPUSLICE_SIM_POLICIES_ARRIVAL_WINDOW_H_

#include <cstdint>
#include <vector>

#include "sim/engine/time.h"

namespace gpuslice {

class ArrivalWindow {
 public:
  // REQUIRES: window > 0. The count starts at 0 at time 0.
  explicit ArrivalWindow(SimTime window) : window_(window), samples_(kInitialCapacity) {
    samples_[0] = {0, 0};
    size_ = 1;
  }

  // Records `cumulative` arrivals at `now` and returns the arrivals since the last sample at
  // or before now − window (or since time 0); *span, if given, gets that interval's length.
  // REQUIRES: now and cumulative never decrease.
  uint64_t Record(SimTime now, uint64_t cumulative, SimTime* span = nullptr) {
    Push({now, cumulative});
    while (size_ >= 2 && At(1).time <= now - window_) {
      head_ = (head_ + 1) & (samples_.size() - 1);
      --size_;
    }
    if (span != nullptr) *span = now - At(0).time;
    return cumulative - At(0).cumulative;
  }

  // Samples held: those of the window, and the one before it.
  size_t samples() const { return size_; }

 private:
  struct Sample {
    SimTime time;
    uint64_t cumulative;
  };
  static constexpr size_t kInitialCapacity = 4;  // a power of two, as every capacity

  // A ring buffer in one allocation (a deque per model cost a cache miss or two more per
  // control tick, at thousands of models).
  const Sample& At(size_t i) const { return samples_[(head_ + i) & (samples_.size() - 1)]; }
  void Push(const Sample& sample) {
    if (size_ == samples_.size()) {
      std::vector<Sample> grown(2 * samples_.size());
      for (size_t i = 0; i < size_; ++i) grown[i] = At(i);
      samples_.swap(grown);
      head_ = 0;
    }
    samples_[(head_ + size_) & (samples_.size() - 1)] = sample;
    ++size_;
  }

  SimTime window_;
  std::vector<Sample> samples_;
  size_t head_ = 0;  // the oldest sample
  size_t size_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_ARRIVAL_WINDOW_H_
