// TokenGate: a host-side time quota for one GPU slice, with the simulator's semantics.
//
// The rule is the simulator's (sim/token_window.h, FaST-GShare's scheduler, DESIGN.md): a
// slice of quota q may start work while its usage in the sliding window (t - W, t] is below
// q·W (W = 40 ms by default). Work is never preempted: an operation started inside the
// budget runs to the end, and its overrun is charged, so the next start waits until the
// window has shed it. Over many windows a saturated slice therefore gets q·W of GPU time per
// window, plus at most one operation's overrun, which is what the profile format's plain
// token rule (TokenWindowLatencyMs) assumes.
//
// GatedRun drives one inference (a sequence of operations) through a gate. At each admission
// it launches, asynchronously and as one range, every following operation that starts while
// the budget left is not used up by the expected durations (measured at full quota) of those
// queued before it; then it waits for the GPU, charges the segment and waits for the next
// admission. An inference that fits in q·W therefore runs exactly as at full quota, and a
// longer one stretches over windows.
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
  // The earliest time >= now at which the usage in (t - W, t] is below the budget.
  int64_t NextAdmission(int64_t now_ns) const;
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
  // Queues operations [begin, end) in order; returns at once. A backend may launch a whole
  // range as one captured graph. REQUIRES: 0 <= begin < end <= the number of operations.
  virtual void LaunchRange(int begin, int end) {
    for (int i = begin; i < end; ++i) Launch(i);
  }
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
