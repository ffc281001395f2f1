// TokenWindow: one slice's GPU usage records over FaST-GShare's sliding window, and the
// scheduler's rules that read them (KontonGu/ST-vGPU, src/fast_scheduler.cpp, as summarised
// in reference/PAPERS.md).
//
//   "The scheduler keeps usage records in a sliding window of length W (not fixed
//    windows). A pod may get a token while its usage inside [now - W, now] is below
//    quota_limit x W; when no pod may run, it sleeps until the earliest record could free
//    enough. Among runnable pods, those below their request go first (larger unmet share
//    first), then the least used."
//
// A record is one token period: from the grant to the synchronisation that ends it, overrun
// included ("the overrun is charged to the pod's usage record afterwards"). Records are
// disjoint and added in time order; those older than the window are pruned, so memory is
// bounded by the periods that fit in one window. They live in one vector, pruned from the
// front by an index and compacted when the dead prefix outgrows the live part, so a slice's
// window costs one small array and no node-based container. All times are integer
// nanoseconds.
#ifndef GPUSLICE_SIM_TOKEN_WINDOW_H_
#define GPUSLICE_SIM_TOKEN_WINDOW_H_

#include <cstddef>
#include <vector>

#include "sim/engine/time.h"

namespace gpuslice {

class TokenWindow {
 public:
  TokenWindow() = default;

  // Adds a usage record [start, end). REQUIRES: start <= end; start >= the last record's end.
  void Charge(SimTime start, SimTime end);

  // GPU time used inside [now - window, now]. REQUIRES: now >= the last record's end.
  SimTime UsageIn(SimTime now, SimTime window) const;

  // "A pod may get a token while its usage inside [now - W, now] is below quota x W."
  bool MayRun(SimTime now, SimTime window, double quota) const;

  // The earliest time >= now at which MayRun holds if no further usage is charged: when
  // enough of the oldest records has slid out of the window.
  SimTime RunnableAt(SimTime now, SimTime window, double quota) const;

  // Drops records that ended before now - window. REQUIRES: now is non-decreasing.
  void Prune(SimTime now, SimTime window);

  size_t records() const { return records_.size() - first_; }

 private:
  struct Record {
    SimTime start, end;
  };
  std::vector<Record> records_;  // the live records are [first_, size)
  size_t first_ = 0;
};

// The budget q·W in nanoseconds.
inline SimTime QuotaBudget(double quota, SimTime window) {
  return static_cast<SimTime>(quota * static_cast<double>(window));
}

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_TOKEN_WINDOW_H_
