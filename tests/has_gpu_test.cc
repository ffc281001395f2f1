#include <cmath>

#include <gtest/gtest.h>

#include "sim/policies/has_gpu.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

TEST(KalmanRate, MatchesAHandWorkedSequenceOfThePublicFilter) {
  // request_predictor_kalman.go from x = 0, P = 1, Q = 1, R = 10, alpha 1, MinBuffer 5.
  KalmanRate k(1, 10, 1, 5);
  // z = 10: P' = 2, K = 1/6, x = 10/6, P = 5/3, x += √(5/3) = 2.958 < 10 + 5: x = 15.
  EXPECT_DOUBLE_EQ(k.Update(10), 15.0);
  // z = 10: P' = 8/3, K = 4/19, x = 15 + (4/19)(10 - 15) = 15 - 20/19, P = 40/19,
  // x += √(40/19): 15.3984 >= 15, kept.
  const double x2 = 15 - 20.0 / 19 + std::sqrt(40.0 / 19);
  EXPECT_NEAR(k.Update(10), x2, 1e-12);
  EXPECT_NEAR(k.estimate(), x2, 1e-12);  // the offset stays in the state
  // z = 20: P' = 59/19, K = (59/19) / (59/19 + 10) = 59/249, x = x2 + K(20 - x2),
  // P = (1 - K)·59/19, x += √P; below 25, so the floor: 25.
  EXPECT_DOUBLE_EQ(k.Update(20), 25.0);
}

// One ResNet-50 on V100s (real profile) under a step in load.
Json Step(Json policy) {
  return {
      {"name", "step"},
      {"cluster", {{"nodes", {{{"count", 4}, {"gpu", "V100-16GB"}}}}}},
      {"models", {{"resnet50", {{"profile", "gpu/profiles/v100/resnet50.csv"}, {"slo_ms", 200}, {"memory_mb", 2700},
                                {"load_time_s", 4}, {"network_ms", 60}, {"max_batch", 4}, {"queue_timeout_s", 30}}}}},
      {"workload", {{{"type", "stages"}, {"function", "resnet50"}, {"rates_rps", {5, 5, 80, 80, 80, 80, 2, 2, 2, 2, 2, 2}},
                     {"stage_s", 10}}}},
      {"policies", {{"has", policy}}},
  };
}

std::vector<std::string> Kinds(const RunResult& r, double after_s) {
  std::vector<std::string> k;
  for (const Action& a : r.actions.actions()) {
    if (SimToSeconds(a.time) > after_s && (a.kind == "resize" || a.kind == "start")) k.push_back(a.kind);
  }
  return k;
}

TEST(HasGpu, ScalesVerticallyBeforeHorizontally) {
  RunResult r = testing::RunInline(Step({{"policy", "has-gpu"}}));
  std::vector<std::string> k = Kinds(r, 0);
  ASSERT_FALSE(k.empty());
  EXPECT_EQ(k.front(), "resize");  // a quota is raised before any new pod starts
  EXPECT_GT(std::count(k.begin(), k.end(), "start"), 0) << "the step needs more than one pod";
}

TEST(HasGpu, AblationsChangeWhatItDoes) {
  RunResult no_vertical = testing::RunInline(Step({{"policy", "has-gpu"}, {"vertical", false}}));
  for (const Action& a : no_vertical.actions.actions()) EXPECT_NE(a.kind, "resize");
  RunResult no_horizontal = testing::RunInline(Step({{"policy", "has-gpu"}, {"horizontal", false}}));
  EXPECT_EQ(no_horizontal.overall.peak_instances, 1);
}

TEST(HasGpu, ScaleDownNeverRemovesTheLastPod) {
  RunResult r = testing::RunInline(Step({{"policy", "has-gpu"}}));
  int live = 0, min_live = 1 << 30;
  bool lowered = false;
  for (const Action& a : r.actions.actions()) {
    if (a.kind == "start") ++live;
    if (a.kind == "drain") --live;
    if (SimToSeconds(a.time) > 0) min_live = std::min(min_live, live);
    if (a.kind == "resize" && a.detail.find("-") != std::string::npos && SimToSeconds(a.time) > 60) lowered = true;
  }
  EXPECT_GE(min_live, 1);
  EXPECT_TRUE(lowered) << "after the load falls to 2 rps, quotas are lowered";
}

TEST(HasGpu, ANewGpuGetsGetMostEfficientConfigsDefaultShape) {
  Json j = Step({{"policy", "has-gpu"}});
  Scenario s = testing::ParseInline(j);
  RunResult r = RunSimulation(s, s.policies.front());
  const Action& first = r.actions.actions().front();
  EXPECT_EQ(first.kind, "start");
  EXPECT_EQ(first.detail, "warm");
  // "bestSM := 30, bestBatch := 4, bestQuota := 30" (tmp_database.go): 24 of 80 SMs.
  EXPECT_EQ(first.sm_count, 24);
  EXPECT_DOUBLE_EQ(first.quota, 0.3);
}

}  // namespace
}  // namespace gpuslice

#include "sim/engine/engine.h"
#include "sim/executor.h"

namespace gpuslice {
namespace {

// A hand-built cluster: HAS-GPU started (its first pods warm on GPUs 0 and 1), then rows
// arranged by hand on GPU 2, then one placement by the row rules.
struct Rows {
  Scenario scenario;
  Engine engine;
  Cluster cluster;
  Metrics metrics;
  ActionLog actions;
  Executor executor;
  std::unique_ptr<HasGpuPolicy> policy;
  PolicyContext ctx;

  explicit Rows(bool alignment)
      : scenario(testing::ParseInline({
            {"name", "rows"},
            {"cluster", {{"nodes", {{{"count", 3}, {"gpu", "V100-16GB"}}}}}},
            {"models", {{"a", {{"latency_ms", 10}, {"slo_ms", 500}, {"memory_mb", 1000}}},
                        {"b", {{"latency_ms", 10}, {"slo_ms", 500}, {"memory_mb", 1000}}}}},
            {"workload", {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 1}, {"end_s", 1}}}},
            {"policies", {{"h", {{"policy", "has-gpu"}, {"alignment", alignment}, {"predictor", "oracle"}}}}},
        })),
        cluster(scenario),
        metrics(scenario, nullptr),
        executor(scenario, engine, cluster, metrics, actions),
        ctx{engine, cluster, executor, scenario, actions} {
    policy.reset(static_cast<HasGpuPolicy*>(
        PolicyRegistry::Create("has-gpu", "x", scenario.policies[0].config, "/policies/h", scenario).release()));
    policy->Start(ctx);
  }
  // A pod of model b in a new row (partition -1) or a given row of GPU 2.
  void Hold(int partition, int sm, double quota) {
    std::string why;
    ASSERT_GE(executor.StartInstance({2, partition, sm, quota, 1000, 1}, true, &why), 0) << why;
  }
};

// The hand-computed capacities below: a constant 10 ms model under the token rule (W =
// 40 ms) takes 10 + (ceil(10 / 40q) - 1)(40 - 40q) ms at quota q: 82 ms at 0.1, 42 at 0.2,
// 10 from 0.3 up; rapp() = 1000 / (L + 70) × (4 + 1) / 2: 16.447, 22.321 and 31.25 rps.
// The models are named "a" and "b": getOptimalSMPartition's default, 50% (40 SMs).

TEST(HasGpuRows, ANewPodTakesTheRowAndQuotaOfHighestPredictedCapacity) {
  Rows r(true);
  r.Hold(-1, 24, 0.5);  // row 0: 30% (24 SMs), 0.5 of its quota free
  // Row 0 reaches 31.25 rps at quota 0.3; an unused row (50%, 40 SMs fit beside 24) reaches
  // no more, and the first maximum found is kept ("if podCap > maxCap"): row 0, quota 0.3.
  ASSERT_TRUE(r.policy->PlacePodForTest(0, 2, 10));
  const Gpu& g = r.cluster.gpu(2);
  ASSERT_EQ(g.slices.size(), 2u);
  EXPECT_EQ(r.cluster.slice(g.slices[1]).partition, 0);
  EXPECT_EQ(r.cluster.slice(g.slices[1]).sm_count, 24);
  EXPECT_DOUBLE_EQ(r.cluster.slice(g.slices[1]).quota, 0.3);
}

TEST(HasGpuRows, WithoutAlignmentAnUnusedRowIsOpened) {
  Rows r(false);
  r.Hold(-1, 24, 0.5);
  ASSERT_TRUE(r.policy->PlacePodForTest(0, 2, 10));
  const Gpu& g = r.cluster.gpu(2);
  EXPECT_EQ(r.cluster.slice(g.slices[1]).partition, 1);  // a new, second row
  EXPECT_EQ(r.cluster.slice(g.slices[1]).sm_count, 40);  // the heuristic's 50%
  EXPECT_DOUBLE_EQ(r.cluster.slice(g.slices[1]).quota, 0.3);
}

TEST(HasGpuRows, WithTwoRowsInUseTheRowWithMoreCapacityLeftWins) {
  Rows r(true);
  r.Hold(-1, 40, 0.8);  // row 0: 50%, 0.2 free: at most 22.321 rps
  r.Hold(-1, 32, 0.4);  // row 1: 40%, 0.6 free: 31.25 rps at 0.3; no unused row left
  ASSERT_TRUE(r.policy->PlacePodForTest(0, 2, 30));
  const Slice& placed = r.cluster.slice(r.cluster.gpu(2).slices[2]);
  EXPECT_EQ(placed.partition, 1);
  EXPECT_DOUBLE_EQ(placed.quota, 0.3);
  EXPECT_EQ(r.cluster.CheckInvariants(), "");
}

TEST(HasGpuRows, ScaleUpRaisesQuotasAsFarAsTheRowAllowsThenAddsPods) {
  Rows r(true);
  // Model a's first pod: GPU 0, 24 SMs at quota 0.3 (GetMostEfficientConfig's default),
  // 31.25 rps. Prediction 40: deficit 40 - 0.9 × 31.25 = 11.875. Vertically, raising its
  // quota gains nothing (10 ms from 0.3 up), so "deltaC < deltaR" holds to the end and the
  // quota rises as far as its row allows: 1.0. Horizontally, GPU 0 (occupancy 0 by integer
  // division, the lowest index) gets a pod: its row 0 has no quota left, so an unused row at
  // the heuristic 50% (40 SMs), quota 0.3: 31.25 rps covers the deficit.
  const int first = r.executor.instances_of(0).front();
  ASSERT_EQ(r.executor.instance(first).gpu, 0);
  r.policy->ScaleUpForTest(0, 40);
  EXPECT_DOUBLE_EQ(r.cluster.slice(r.executor.instance(first).slice).quota, 1.0);
  ASSERT_EQ(r.executor.instances_of(0).size(), 2u);
  const Instance& added = r.executor.instance(r.executor.instances_of(0).back());
  EXPECT_EQ(added.gpu, 0);
  EXPECT_EQ(r.cluster.slice(added.slice).sm_count, 40);
  EXPECT_DOUBLE_EQ(r.cluster.slice(added.slice).quota, 0.3);

  // Scale down at prediction 7: capacity 62.5, excess 0.9 × 62.5 - 7 = 49.25. Pods by SM,
  // fewest first. The 24-SM pod lowers its quota until its loss covers the excess or the
  // quota would reach 0: to 0.1 (loss 31.25 - 16.447 = 14.803; excess 34.447). The 40-SM
  // pod likewise: to 0.1 (excess 19.645). Then pods of at most 50% SM whose capacity fits
  // in the excess go: the 24-SM pod (16.447 <= 19.645); the 40-SM pod is then the last.
  r.policy->ScaleDownForTest(0, 7);
  const std::vector<int>& live = r.executor.instances_of(0);
  int accepting = 0;
  for (int id : live) accepting += r.executor.instance(id).accepting();
  EXPECT_EQ(accepting, 1);
  EXPECT_FALSE(r.executor.instance(first).accepting());  // drained (and gone: it was idle)
  EXPECT_NEAR(r.cluster.slice(added.slice).quota, 0.1, 1e-9);
}
}  // namespace
}  // namespace gpuslice
