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
// bounded by the periods that fit in one window. Up to two live records are kept inside the
// object (one cache line), which is the common case: a scheduler's check then reads no
// other memory. More spill to a vector, pruned from the front by an index and compacted
// when the dead prefix outgrows the live part, and return inside once two or fewer are
// left. All times are integer nanoseconds.
#ifndef GPUSLICE_SIM_TOKEN_WINDOW_H_
#define GPUSLICE_SIM_TOKEN_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/engine/time.h"

namespace gpuslice {

class alignas(64) TokenWindow {
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

  size_t records() const { return spilled() ? spill_.size() - first_ : count_; }

 private:
  struct Record {
    SimTime start, end;
  };
  static constexpr uint32_t kInline = 2;

  // Invariant: spilled() iff more than kInline records were live at the last Charge or Prune.
  bool spilled() const { return !spill_.empty(); }
  const Record* live() const { return spilled() ? spill_.data() + first_ : inline_; }
  Record& last() { return spilled() ? spill_.back() : inline_[count_ - 1]; }

  Record inline_[kInline] = {};  // the live records [0, count_) while not spilled
  std::vector<Record> spill_;    // while spilled, the live records are [first_, size)
  uint32_t first_ = 0;
  uint32_t count_ = 0;
};

// The budget q·W in nanoseconds.
inline SimTime QuotaBudget(double quota, SimTime window) {
  return static_cast<SimTime>(quota * static_cast<double>(window));
}

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_TOKEN_WINDOW_H_
