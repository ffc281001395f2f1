// The host-side token gate against a simulated GPU stream: quota semantics the simulator
// assumes (a fresh window runs at full speed; long work stretches to about L/q; usage in any
// window stays within the budget plus one operation).
#include "gpu/calibrate/token_gate.h"
#include "gpu/perf_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace gpuslice {
namespace {

constexpr int64_t kMs = 1'000'000;

// A GPU that runs queued operations one after another; the host pays `launch_ns` per launch
// and `sync_ns` per synchronisation.
class SimulatedStream : public GatedStream {
 public:
  SimulatedStream(std::vector<int64_t> durations, int64_t launch_ns = 5'000, int64_t sync_ns = 10'000)
      : durations_(std::move(durations)), launch_ns_(launch_ns), sync_ns_(sync_ns) {}
  int64_t NowNs() override { return host_; }
  void Launch(int index) override {
    host_ += launch_ns_;
    const int64_t start = std::max(gpu_free_, host_);
    busy_.push_back({start, start + durations_[index]});
    gpu_free_ = start + durations_[index];
  }
  int64_t Synchronize() override {
    host_ = std::max(host_, gpu_free_) + sync_ns_;
    ++syncs_;
    return host_;
  }
  void SleepUntil(int64_t t) override { host_ = std::max(host_, t); }
  int syncs() const { return syncs_; }
  // GPU busy time inside (t - w, t].
  int64_t BusyIn(int64_t t, int64_t w) const {
    int64_t sum = 0;
    for (auto [s, e] : busy_) sum += std::max<int64_t>(0, std::min(e, t) - std::max(s, t - w));
    return sum;
  }
  int64_t last_busy_end() const { return busy_.empty() ? 0 : busy_.back().second; }

 private:
  std::vector<int64_t> durations_;
  int64_t launch_ns_, sync_ns_;
  int64_t host_ = 0, gpu_free_ = 0;
  int syncs_ = 0;
  std::vector<std::pair<int64_t, int64_t>> busy_;
};

int64_t RunOnce(double quota, const std::vector<int64_t>& ops, SimulatedStream* out_stream = nullptr,
                int64_t launch_ns = 5'000, int64_t sync_ns = 10'000) {
  TokenGate gate(quota, 40 * kMs);
  SimulatedStream stream(ops, launch_ns, sync_ns);
  const GatedRunStats stats = GatedRun(gate, stream, ops);
  if (out_stream) *out_stream = stream;
  return stats.end_ns - stats.start_ns;
}

TEST(TokenGate, FullQuotaSynchronisesOnceAndRunsAtFullSpeed) {
  const std::vector<int64_t> ops(100, kMs / 2);  // 50 ms of work
  SimulatedStream stream(ops);
  TokenGate gate(1.0, 40 * kMs);
  const GatedRunStats stats = GatedRun(gate, stream, ops);
  EXPECT_EQ(stream.syncs(), 1);
  EXPECT_NEAR(stats.end_ns - stats.start_ns, 50 * kMs, 0.1 * kMs);
}

TEST(TokenGate, WorkWithinTheBudgetIsNotSlowedOnAFreshWindow) {
  const std::vector<int64_t> ops(20, kMs / 4);  // 5 ms
  for (double q : {0.2, 0.5, 0.9}) {
    EXPECT_EQ(RunOnce(q, ops), RunOnce(1.0, ops)) << q;
  }
}

TEST(TokenGate, LongInferenceStretchesAsThePlainTokenRuleSays) {
  const std::vector<int64_t> ops(200, kMs / 2);  // 100 ms of work in 0.5 ms operations
  for (double q : {0.2, 0.3, 0.5, 0.8}) {
    // With free launches and synchronisations the gate is the plain rule: q·W of work in
    // each window, the last window partly used.
    const double budget_ms = q * 40;
    const double full_windows = std::ceil(100 / budget_ms - 1e-9) - 1;
    const double expected_ms = full_windows * 40 + (100 - full_windows * budget_ms);
    const double ideal_ms = RunOnce(q, ops, nullptr, 0, 0) / 1e6;
    // An operation waits for room for all of it: each window's start may slip by one.
    EXPECT_GE(ideal_ms, expected_ms - 1e-6) << "quota " << q;
    EXPECT_LE(ideal_ms, expected_ms + full_windows * 0.5 + 1e-6) << "quota " << q;
    // Real launches and synchronisations are charged to the slice too: a few percent more
    // work per window, which can cost one more window.
    const double real_ms = RunOnce(q, ops) / 1e6;
    EXPECT_GE(real_ms, ideal_ms) << q;
    EXPECT_LE(real_ms, ideal_ms + 40 + 0.05 * ideal_ms) << q;
  }
}

TEST(TokenGate, UsageInAnyWindowStaysWithinTheBudgetPlusOneOperation) {
  std::vector<int64_t> ops;
  for (int i = 0; i < 300; ++i) ops.push_back((i % 7 + 1) * kMs / 8);  // 0.125..0.875 ms
  SimulatedStream stream({});
  RunOnce(0.3, ops, &stream);
  const int64_t budget = static_cast<int64_t>(0.3 * 40 * kMs);
  for (int64_t t = 0; t <= stream.last_busy_end() + 40 * kMs; t += kMs / 4) {
    ASSERT_LE(stream.BusyIn(t, 40 * kMs), budget + kMs) << "window ending at " << t;
  }
}

TEST(TokenGate, AnOperationLongerThanTheBudgetRunsWholeAndIsChargedItsOverrun) {
  const std::vector<int64_t> one_long = {100 * kMs};
  EXPECT_NEAR(RunOnce(0.2, one_long) / 1e6, 100.0, 0.1);  // not preempted
  TokenGate gate(0.2, 40 * kMs);
  gate.Charge(0, 100 * kMs);
  // Usage in (t - 40, t] is 140 - t ms for t in [100, 140]: below the 8 ms budget after 132 ms.
  EXPECT_EQ(gate.NextAdmission(100 * kMs), 132 * kMs + 1);
  EXPECT_EQ(gate.NextAdmission(135 * kMs), 135 * kMs);
}

TEST(TokenGate, OperationsThatDoNotDivideTheBudgetFollowThePlainRule) {
  // The example: 19.5 ms of work in 13 operations of 1.5 ms at quota 0.1 (4 ms of
  // each 40 ms window). By hand, with free launches: window 1 starts operations at 0, 1.5
  // and 3 ms (each while less than 4 ms is queued) and is busy until 4.5 ms. Usage falls
  // below 4 ms once 0.5 ms has slid out, at 40.5 ms, and the slice again runs 3 operations:
  // a period of 40.5 ms. The 4th window starts at 3 x 40.5 = 121.5 ms; the 13th operation
  // starts at 4 x 40.5 = 162 ms and ends at 163.5 ms. TokenWindowLatencyMs says
  // 4 x 40 + (19.5 - 16) = 163.5 ms. Admitting only operations that fit whole in the budget
  // left (the defect) ran 2 per window: 6 x 40 + 1.5 = 241.5 ms.
  const std::vector<int64_t> ops(13, kMs * 3 / 2);
  EXPECT_NEAR(RunOnce(0.1, ops, nullptr, 0, 0) / 1e6, 163.5, 1e-3);
  EXPECT_NEAR(TokenWindowLatencyMs(19.5, 0.1, 40), 163.5, 1e-9);
  // Real launch (5 us) and synchronisation (10 us) costs add a few microseconds per segment.
  EXPECT_NEAR(RunOnce(0.1, ops) / 1e6, 163.5, 0.2);
}

TEST(TokenGate, ASaturatedSliceGetsItsQuotaPlusAtMostOneOverrunPerWindow) {
  // 2 s of work in 0.7 ms operations at quota 0.3: each window gives 12 ms of budget, and
  // the operation that crosses it runs whole (at most 0.7 ms more), so the slice's share of
  // the GPU lies in [0.3, (12 + 0.7) / 40 = 0.3175].
  const std::vector<int64_t> ops(2858, kMs * 7 / 10);
  const double elapsed_ms = RunOnce(0.3, ops, nullptr, 0, 0) / 1e6;
  const double share = 2858 * 0.7 / elapsed_ms;
  EXPECT_GE(share, 0.3 - 0.002);
  EXPECT_LE(share, 12.7 / 40);
}

TEST(TokenGate, UsageSlidesWithTheWindow) {
  TokenGate gate(0.5, 40 * kMs);
  gate.Charge(0, 10 * kMs);
  gate.Charge(30 * kMs, 40 * kMs);
  EXPECT_EQ(gate.UsageAt(40 * kMs), 20 * kMs);
  EXPECT_EQ(gate.UsageAt(45 * kMs), 15 * kMs);
  EXPECT_EQ(gate.UsageAt(80 * kMs), 0);
  // 20 ms used of a 20 ms budget at 40 ms: not below it until the first record starts to slide out.
  EXPECT_EQ(gate.NextAdmission(40 * kMs), 40 * kMs + 1);
  EXPECT_EQ(gate.NextAdmission(45 * kMs), 45 * kMs);
}

}  // namespace
}  // namespace gpuslice
