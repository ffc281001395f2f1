// Metrics with and without its helper thread: counters computed by hand from the updates
// reported, the same either way; reading them before Finish() is refused.
#include "sim/metrics.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "sim/scenario.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

Scenario TwoModels() {
  return testing::ParseInline(
      {{"name", "metrics"},
       {"cluster", {{"nodes", {{{"count", 1}, {"gpu", "V100-16GB"}}}}}},
       {"models", {{"a", {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"network_ms", 0}}},
                   {"b", {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"network_ms", 0}}}}},
       {"workload", {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 1}, {"end_s", 1}}}},
       {"policies", {{"p", {{"policy", "static-slices"}}}}}});
}

// 30,000 requests (several of the helper's blocks), alternating models: request k arrives at
// k ms, waits 5 ms, leaves its pod at k + 50 ms (latency 50 ms) when k % 3 != 0, else at
// k + 150 ms (late: over the 100 ms SLO); every tenth batch start has 4 requests, the others 1.
void Report(Metrics& m) {
  for (int k = 0; k < 30'000; ++k) {
    const SimTime t = MillisToSim(k);
    Request r{static_cast<uint64_t>(k), t, t, k % 2, k % 2, -1, -1};
    m.OnArrival(r, t);
    m.OnBatchStart(k % 2, k % 10 == 0 ? 4 : 1);
    m.OnComplete(r, t + MillisToSim(5), t + MillisToSim(k % 3 ? 50 : 150), 0, 1);
  }
}

void ExpectHandCounts(const Metrics& m) {
  for (int model = 0; model < 2; ++model) {
    const ModelCounters& c = m.model(model);
    // 15,000 each; late: k % 3 == 0 among k of this parity, 5,000 of each parity.
    EXPECT_EQ(c.arrived, 15'000u);
    EXPECT_EQ(c.completed, 15'000u);
    EXPECT_EQ(c.completed_late, 5'000u);
    // Batches: 15,000; k % 10 == 0 only for even k (1,500 of them start with 4).
    EXPECT_EQ(c.batches, 15'000u);
    EXPECT_EQ(c.batched_requests, model == 0 ? 15'000u + 3 * 3'000u : 15'000u);
    // Mean latency (10,000 × 50 + 5,000 × 150) / 15,000 = 83.33 ms; mean wait 5 ms.
    EXPECT_NEAR(c.latency.mean(), MillisToSim(1) * 250.0 / 3.0, 1.0);
    EXPECT_EQ(c.latency.max(), MillisToSim(150));
    EXPECT_NEAR(c.queue_wait.mean(), static_cast<double>(MillisToSim(5)), 1e-3);
    // Time in system: 15,000 requests of which 5,000 took 150 ms and 10,000 50 ms.
    EXPECT_NEAR(c.ended_system_time_s, 5'000 * 0.150 + 10'000 * 0.050, 1e-6);
  }
}

TEST(Metrics, CountsByHandWithoutAHelperThread) {
  const Scenario s = TwoModels();
  Metrics m(s, nullptr);
  Report(m);
  m.Finish();
  ExpectHandCounts(m);
}

TEST(Metrics, CountsByHandWithAHelperThread) {
  const Scenario s = TwoModels();
  Metrics m(s, nullptr, nullptr, /*helper_thread=*/true);
  Report(m);
  EXPECT_THROW(m.model(0), std::logic_error);
  m.Finish();
  ExpectHandCounts(m);
  // The requests in the system are counted on the run's thread as it goes: none at the end,
  // and ∫N dt equals the Σ of their times in system.
  EXPECT_EQ(m.in_system(0).rate(), 0.0);
  EXPECT_NEAR(m.in_system(0).ValueAt(MillisToSim(40'000)), 5'000 * 0.150 + 10'000 * 0.050, 1e-6);
}

TEST(Metrics, AHelperThreadLeftRunningIsStoppedByTheDestructor) {
  const Scenario s = TwoModels();
  Metrics m(s, nullptr, nullptr, /*helper_thread=*/true);
  Report(m);  // no Finish(): the run was interrupted
}

}  // namespace
}  // namespace gpuslice
