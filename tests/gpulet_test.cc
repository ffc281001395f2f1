// gpu-lets' elastic partitioning on hand-computed cases, and its headline comparison.
#include <gtest/gtest.h>

#include "sim/capacity.h"
#include "sim/policies/gpulet.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

// Two constant-latency models (10 ms at every SM share, 11 ms with gpu-lets' 1.1 slack),
// SLO 100 ms, batches up to 4, on V100s.
struct Fixture {
  Scenario scenario;
  PerfModel truth;
  std::unique_ptr<GpuletPolicy> policy;

  Fixture()
      : scenario(testing::ParseInline({
            {"name", "g"},
            {"cluster", {{"nodes", {{{"count", 2}, {"gpu", "V100-16GB"}}}}}},
            {"models", {{"a", {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"max_batch", 4}}},
                        {"b", {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"max_batch", 4}}}}},
            {"workload", {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 1}, {"end_s", 1}}}},
            {"policies", {{"g", {{"policy", "gpulet"}}}}},
        })),
        truth({scenario.models[0].curve, scenario.models[1].curve}, 40) {
    nlohmann::ordered_json config = Json::object();
    JsonObject reader("g.json", config, "/policies/g");
    policy = std::make_unique<GpuletPolicy>(reader, scenario);
    policy->SetPredictorForTest(MakePredictor({"oracle"}, truth));
  }
};

TEST(Gpulet, SaturatedGpuletsThenAResidualAtMostTwoPerGpu) {
  Fixture f;
  // Saturated: the largest b with 2·11 ms <= 100 ms is 4: 4 / 11 ms = 363.6 rps; every
  // partition gives the same, so the smallest (20%) has the best throughput per %. 1000 rps
  // = 2 saturated gpulets + a residual of 272.7 rps (batch 4: 11 + 14.7 ms <= 100 ms).
  // The residual cannot time-share a saturated gpulet (Σ L = 22 ms > duty 14.7 ms), so it
  // takes the rest of GPU 0 (20% beside 20%) ... and the third goes to GPU 1.
  auto plans = f.policy->Partition({1000, 0}, 2, 80, 16384, 1.0);
  ASSERT_EQ(plans.size(), 3u);
  for (const GpuletPlan& p : plans) {
    EXPECT_DOUBLE_EQ(p.partition_percent, 20);
    ASSERT_EQ(p.shares.size(), 1u);
    EXPECT_EQ(p.shares[0].batch, 4);
    EXPECT_NEAR(p.shares[0].latency_ms, 11.0, 1e-9);
  }
  EXPECT_NEAR(plans[0].shares[0].rate_rps, 4000.0 / 11, 1e-9);
  EXPECT_NEAR(plans[2].shares[0].rate_rps, 1000 - 2 * 4000.0 / 11, 1e-9);
  EXPECT_EQ(plans[0].gpu, 0);
  EXPECT_EQ(plans[1].gpu, 0);
  EXPECT_EQ(plans[2].gpu, 1);
  // With one GPU the third does not fit.
  EXPECT_EQ(f.policy->Partition({1000, 0}, 1, 80, 16384, 1.0)[2].gpu, -1);
}

TEST(Gpulet, ResidualsTimeShareAGpuletWhenTheDutyCycleAllows) {
  Fixture f;
  // 20 rps each: batch 1 (11 + 50 ms <= 100; batch 2 would wait 100 ms). Together: duty =
  // max(b / rate) = 50 ms; Σ L = 22 <= 50 and 50 + 22 <= 100: one gpulet, two models.
  auto plans = f.policy->Partition({20, 20}, 2, 80, 16384, 1.0);
  ASSERT_EQ(plans.size(), 1u);  // the second model's residual merged into the first's
  EXPECT_EQ(plans[0].shares.size(), 2u);
  EXPECT_NEAR(plans[0].duty_ms(), 50.0, 1e-9);
  EXPECT_EQ(plans[0].gpu, 0);
  // At 45 rps each the residual batch is 4 (11 + 88.9 ms <= 100), the duty 88.9 ms, and
  // duty + Σ L = 110.9 ms > 100: no sharing; the second takes the rest of GPU 0.
  auto busy = f.policy->Partition({45, 45}, 2, 80, 16384, 1.0);
  EXPECT_EQ(busy[0].shares.size(), 1u);
  EXPECT_EQ(busy[0].shares[0].batch, 4);
  EXPECT_EQ(busy[1].gpu, 0);
  // At 60 rps each (batch 4, duty 66.7 ms, 66.7 + 22 <= 100) they share again.
  EXPECT_EQ(f.policy->Partition({60, 60}, 2, 80, 16384, 1.0)[0].shares.size(), 2u);
}

TEST(Gpulet, MemoryLimitsWhatAGpuHolds) {
  Fixture f;
  // 90% of 3000 MB = 2700 MB: one model (1000) + 1200 MB of context fits, a second gpulet
  // (another 2200 MB) does not.
  auto plans = f.policy->Partition({1000, 0}, 2, 80, 3000, 1.0);
  EXPECT_EQ(plans[0].gpu, 0);
  EXPECT_EQ(plans[1].gpu, 1);
  EXPECT_EQ(plans[2].gpu, -1);
}

TEST(Gpulet, SpatialSharingServesMoreThanTemporalOnly) {
  // scenarios/gpulet-mix.json: the SLO-attaining throughput of gpulet against the same
  // scheduler restricted to whole GPUs (docs/results/gpulet.md).
  Scenario s = LoadScenario(testing::SourceDir() + "/scenarios/gpulet-mix.json");
  CapacityOptions o;
  o.attainment = 0.99;
  o.tolerance = 0.02;
  auto runs = SelectPolicyRuns(s, "gpulet,temporal-only");
  const double spatial = FindCapacity(s, runs[0], o).scale;
  const double temporal = FindCapacity(s, runs[1], o).scale;
  EXPECT_GT(spatial, 1.3 * temporal) << spatial << " vs " << temporal;
}

}  // namespace
}  // namespace gpuslice
