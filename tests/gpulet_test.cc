// gpu-lets' elastic partitioning on hand-computed cases, and its headline comparison.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>

#include "sim/capacity.h"
#include "sim/policies/gpulet.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

// Two constant-latency models (10 ms at every SM share, 11 ms with gpu-lets' 1.1 slack),
// SLO 100 ms, batches up to 4, on V100s; no interference load unless `load` > 0 (then
// both models' L2 and DRAM utilisation).
struct Fixture {
  Scenario scenario;
  PerfModel truth;
  std::unique_ptr<GpuletPolicy> policy;

  explicit Fixture(double slo_ms = 100, double load = 0)
      : scenario(testing::ParseInline({
            {"name", "g"},
            {"cluster", {{"nodes", {{{"count", 2}, {"gpu", "V100-16GB"}}}}}},
            {"models", {{"a", {{"latency_ms", 10}, {"slo_ms", slo_ms}, {"memory_mb", 1000}, {"max_batch", 4},
                               {"l2_util", load}, {"dram_util", load}}},
                        {"b", {{"latency_ms", 10}, {"slo_ms", slo_ms}, {"memory_mb", 1000}, {"max_batch", 4},
                               {"l2_util", load}, {"dram_util", load}}}}},
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
  bool ok = false;
  auto plans = f.policy->Partition({1000, 0}, 2, 80, 16384, &ok);
  EXPECT_TRUE(ok);
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
  EXPECT_EQ(f.policy->Partition({1000, 0}, 1, 80, 16384, &ok).size(), 2u);
  EXPECT_FALSE(ok);
}

TEST(Gpulet, ResidualsTimeShareAGpuletWhenTheDutyCycleAllows) {
  Fixture f;
  // 20 rps each: batch 1 (11 + 50 ms <= 100; batch 2 would wait 100 ms). Together: duty =
  // max(b / rate) = 50 ms; Σ L = 22 <= 50 and 50 + 22 <= 100: one gpulet, two models.
  auto plans = f.policy->Partition({20, 20}, 2, 80, 16384);
  ASSERT_EQ(plans.size(), 1u);  // the second model's residual merged into the first's
  EXPECT_EQ(plans[0].shares.size(), 2u);
  EXPECT_NEAR(plans[0].duty_ms, 50.0, 1e-9);
  EXPECT_EQ(plans[0].gpu, 0);
  // At 45 rps each the residual batch is 4 (11 + 88.9 ms <= 100), the duty 88.9 ms. The
  // joiner's batch is int(88.9 ms × 45 rps) = 4, duty int(88.9) = 88 ms, and duty + Σ L =
  // 110 ms > 100: glet takes the first batch that meets its own SLO and does not try a
  // smaller one, so there is no sharing; the second takes the rest of GPU 0.
  auto busy = f.policy->Partition({45, 45}, 2, 80, 16384);
  ASSERT_EQ(busy.size(), 2u);
  EXPECT_EQ(busy[0].shares.size(), 1u);
  EXPECT_EQ(busy[0].shares[0].batch, 4);
  EXPECT_EQ(busy[1].gpu, 0);
}

TEST(Gpulet, AMergeReDerivesEveryBatchFromTheNewDutyCycle) {
  Fixture f;
  // 60 rps each. The first (b, by glet's tie order) gets a residual gpulet of batch 4,
  // duty 4 / 60 rps = 66.7 ms. The second joins with batch int(66.7 × 60 / 1000) = 4 and
  // duty int(4000 / 60) = 66 ms (77 < 100, occupancy 11 / 66 < 1 − 11 / 66.7); the host's
  // batch is re-derived as int(66 ms × 60 rps / 1000) = int(3.96) = 3; Σ L = 22 ms <= 66
  // and 66 + 22 <= 100: one gpulet of duty 66 ms.
  auto plans = f.policy->Partition({60, 60}, 2, 80, 16384);
  ASSERT_EQ(plans.size(), 1u);
  ASSERT_EQ(plans[0].shares.size(), 2u);
  EXPECT_DOUBLE_EQ(plans[0].duty_ms, 66.0);
  EXPECT_EQ(plans[0].shares[0].model, 1);
  EXPECT_EQ(plans[0].shares[0].batch, 3);
  EXPECT_EQ(plans[0].shares[1].model, 0);
  EXPECT_EQ(plans[0].shares[1].batch, 4);
}

TEST(Gpulet, IncrementalReschedulingLeavesTheOtherModelsInPlace) {
  Fixture f;
  // a at 400 rps: one saturated 20% gpulet (363.6 rps) and a residual of 36.4 rps; b at 30
  // rps a residual. Then a rises to 800 rps (two saturated + 72.7 rps): only a's gpulets
  // are re-planned; b's stays as it was, on its GPU, at its size and batch.
  GpuletLayout before = f.policy->Partition({400, 30}, 2, 80, 16384);
  GpuletLayout after;
  ASSERT_TRUE(f.policy->Increment(before, {800, 30}, {0}, 2, 80, 16384, &after));
  auto find_b = [](const GpuletLayout& layout) {
    for (const GpuletPlan& p : layout) {
      if (p.Serves(1)) return p;
    }
    return GpuletPlan{};
  };
  const GpuletPlan b_before = find_b(before), b_after = find_b(after);
  ASSERT_EQ(b_after.shares.size(), b_before.shares.size());
  EXPECT_EQ(b_after.gpu, b_before.gpu);
  EXPECT_EQ(b_after.partition_percent, b_before.partition_percent);
  EXPECT_EQ(b_after.shares[0].batch, b_before.shares[0].batch);
  double a_rate = 0;
  for (const GpuletPlan& p : after) {
    for (const GpuletShare& s : p.shares) a_rate += s.model == 0 ? s.rate_rps : 0.0;
  }
  EXPECT_NEAR(a_rate, 800, 1e-6);
  // A model whose gpulets no longer fit anywhere fails the increment (the policy then
  // tries a full repartition): a at 2,000 rps needs 6 gpulets, 2 GPUs hold 4.
  EXPECT_FALSE(f.policy->Increment(before, {2000, 30}, {0}, 2, 80, 16384, &after));
}

TEST(Gpulet, InterferenceBetweenTheTwoGpuletsOfAGpuIsCheckedPerPair) {
  // SLO 30 ms, both models at L2 = DRAM = 1. b at 300 rps gets a residual 20% gpulet: batch
  // 4, 11 + 13.3 ms <= 30, duty 13.3 ms. Beside a's 50% gpulet its slowdown is gpu-lets'
  // 0.1129·0.2 + 0.7160·0.5 + 0.3549·0.2 + 0.0882·0.5 + 0.8954 = 1.391: L = 15.3 ms > its
  // duty, so it goes to the empty GPU 1. Without that load (alpha = 0.8954 < 1) it stays
  // beside a on GPU 0.
  GpuletLayout current{{0, 50, {{0, 1, 50, 11}}, 11}};
  for (double load : {1.0, 0.0}) {
    Fixture f(30, load);
    GpuletLayout after;
    ASSERT_TRUE(f.policy->Increment(current, {50, 300}, {1}, 2, 80, 16384, &after));
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after[1].shares[0].model, 1);
    EXPECT_EQ(after[1].gpu, load > 0 ? 1 : 0) << "load " << load;
    EXPECT_DOUBLE_EQ(after[1].partition_percent, 20);
  }
}

TEST(Gpulet, UnchangedModelsKeepTheirGpuletsAndReplacedOnesGoOnlyOnceTheirSuccessorsAreReady) {
  // a at 100 rps for 60 s, then 400 rps; b at 30 rps throughout. Every schedule names the
  // models it re-plans (marked *). A gpulet of b is drained only after a schedule that
  // re-planned b; one of a only after a new gpulet of a became ready (make before break:
  // four GPUs leave room beside the old ones). After the rise some epoch re-plans a alone.
  Json j = {{"name", "rise"},
            {"seed", 3},
            {"cluster", {{"nodes", {{{"count", 4}, {"gpu", "V100-16GB"}}}}}},
            {"models", {{"a", {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"max_batch", 4}, {"load_time_s", 2}}},
                        {"b", {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"max_batch", 4}, {"load_time_s", 2}}}}},
            {"workload", {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 100}, {"end_s", 60}},
                          {{"type", "poisson"}, {"function", "a"}, {"rate_rps", 400}, {"start_s", 60}, {"end_s", 150}},
                          {{"type", "poisson"}, {"function", "b"}, {"rate_rps", 30}, {"end_s", 150}}}},
            {"policies", {{"g", {{"policy", "gpulet"}}}}}};
  RunResult r = testing::RunInline(j);
  bool b_replanned = true, a_replanned = true, a_ready_since = false;
  int a_alone = 0, a_drains = 0;
  for (const Action& a : r.actions.actions()) {
    const double t = SimToSeconds(a.time);
    if (a.detail.rfind("gpulet: incremental schedule", 0) == 0 || a.detail.rfind("gpulet: full repartition", 0) == 0) {
      a_replanned = std::regex_search(a.detail, std::regex(" a [0-9.]+ rps\\*"));
      b_replanned = std::regex_search(a.detail, std::regex(" b [0-9.]+ rps\\*"));
      a_ready_since = false;
      a_alone += a_replanned && !b_replanned;
    }
    if (a.kind == "ready" && a.model == 0) a_ready_since = true;
    if (a.kind != "drain") continue;
    if (a.model == 1) {
      EXPECT_TRUE(b_replanned) << "b drained at " << t << " s though the last schedule kept it";
    }
    if (a.model == 0) {
      ++a_drains;
      EXPECT_TRUE(a_ready_since) << "a drained at " << t << " s before a new gpulet of a was ready";
    }
  }
  EXPECT_GE(a_alone, 1);
  EXPECT_GE(a_drains, 1);
}

TEST(Gpulet, RequestsGoToAModelsGpuletsInProportionToTheirPlannedRates) {
  // a at 400 rps (constant 10 ms, 11 with the slack; target ×1.2 = 480 rps): one saturated
  // 20% gpulet of 4 / 11 ms = 363.6 rps and a residual of 116.4 rps (batch 4: 11 + 34.4
  // ms <= 100). glet's weighted round-robin sends them 363.6 : 116.4 of the requests,
  // 75.8% and 24.2% (least-loaded routing would split them about evenly).
  Json j = {{"name", "wrr"},
            {"seed", 1},
            {"cluster", {{"nodes", {{{"count", 2}, {"gpu", "V100-16GB"}}}}}},
            {"models", {{"a", {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"max_batch", 4}}}}},
            {"workload", {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 400}, {"end_s", 15}}}},
            {"policies", {{"g", {{"policy", "gpulet"}, {"epoch_s", 100}}}}}};
  struct Count : RequestSink {
    std::map<int, int> per_instance;
    int total = 0;
    void Write(const RequestRecord& rec) override { ++per_instance[rec.instance], ++total; }
  } count;
  Scenario scenario = testing::ParseInline(j);
  RunOptions options;
  options.request_sink = &count;
  RunSimulation(scenario, scenario.policies.front(), options);
  const auto& per_instance = count.per_instance;
  const int total = count.total;
  ASSERT_EQ(per_instance.size(), 2u);
  std::vector<double> shares;
  for (const auto& [id, n] : per_instance) shares.push_back(static_cast<double>(n) / total);
  std::sort(shares.begin(), shares.end());
  EXPECT_NEAR(shares[1], 363.636 / 480, 0.01);
  EXPECT_NEAR(shares[0], 116.364 / 480, 0.01);
}

TEST(Gpulet, MemoryLimitsWhatAGpuHolds) {
  Fixture f;
  // 90% of 3000 MB = 2700 MB: one model (1000) + 1200 MB of context fits, a second gpulet
  // (another 2200 MB) does not.
  bool ok = true;
  auto plans = f.policy->Partition({1000, 0}, 2, 80, 3000, &ok);
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].gpu, 0);
  EXPECT_EQ(plans[1].gpu, 1);
  EXPECT_FALSE(ok);
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
