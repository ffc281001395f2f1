// TokenGate: a host-side time quota for one GPU slice, with the simulator's semantics.
//
// A slice of quota q holds its SMs for at most q·W of any window of length W (FaST-GShare's
// token scheduler; W = 40 ms by default): the gate charges the time the slice's work occupied
// the GPU and admits new work only while the usage in the sliding window (t - W, t] leaves
// room for it. Work is never preempted: an operation launched inside its budget runs to the
// end, and what it overruns is charged and waited out before the next launch.
//
// GatedRun drives one inference (a sequence of operations) through a gate. Operations are
// launched asynchronously, ahead of the GPU, as long as their expected durations (measured at
// full quota) fit in the budget left; only when the next would not fit does the host wait
// for the GPU, charge the segment and wait for room. An inference that fits in q·W therefore
// runs exactly as at full quota, and a longer one stretches over windows.
//
// Not thread-safe: one gate per slice, driven by one thread.
#ifndef GPUSLICE_GPU_CALIBRATE_TOKEN_GATE_H_
#define GPUSLICE_GPU_CALIBRATE_TOKEN_GATE_H_

#include <cstdint>
#include <deque>
#include <vector>

namespace gpuslice {

class TokenGate {
 public:
  // REQUIRES: 0 < quota <= 1, window_ns > 0.
  TokenGate(double quota, int64_t window_ns);

  double quota() const { return quota_; }
  int64_t window_ns() const { return window_ns_; }
  int64_t budget_ns() const { return budget_ns_; }

  // Time charged inside (t - W, t].
  int64_t UsageAt(int64_t t_ns) const;
  // The earliest time >= now at which `need_ns` more fits in the window's budget, or at
  // which the window is empty (work longer than the budget starts only on an empty window).
  int64_t NextAdmission(int64_t now_ns, int64_t need_ns) const;
  // Records that the slice occupied the GPU during [start, end).
  // REQUIRES: start >= the end of the previous charge; end >= start.
  void Charge(int64_t start_ns, int64_t end_ns);
  // Forgets all usage (a fresh slice).
  void Reset() { charges_.clear(); }

 private:
  struct Interval {
    int64_t start, end;
  };
  void Forget(int64_t before_ns);

  double quota_;
  int64_t window_ns_;
  int64_t budget_ns_;
  std::deque<Interval> charges_;
};

// What GatedRun drives: a stream on one partition with a host clock.
class GatedStream {
 public:
  virtual ~GatedStream() = default;
  virtual int64_t NowNs() = 0;
  // Queues operation `index` of the inference; returns at once.
  virtual void Launch(int index) = 0;
  // Waits until everything queued has run; returns the host time then.
  virtual int64_t Synchronize() = 0;
  virtual void SleepUntil(int64_t t_ns) = 0;
};

struct GatedRunStats {
  int64_t start_ns = 0, end_ns = 0;
  int segments = 0;  // launches between waits
};

// Runs operations 0..n-1 through the gate. `expected_ns[i]` is operation i's duration at
// full quota; with quota 1 the gate is bypassed (one synchronisation at the end).
// REQUIRES: expected_ns.size() == n.
GatedRunStats GatedRun(TokenGate& gate, GatedStream& stream, const std::vector<int64_t>& expected_ns);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_TOKEN_GATE_H_
