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

}  // namespace
}  // namespace gpuslice

#include "sim/engine/engine.h"
#include "sim/executor.h"

namespace gpuslice {
namespace {

// A hand-built cluster: HAS-GPU started (its first pods warm on GPU 0), then rows arranged
// by hand on GPU 2, then one placement by the row rules.
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

TEST(HasGpuRows, FirstPodsTakeTheMostEfficientShapeOnTheLeastOccupiedGpuInUse) {
  Rows r(true);
  // GetMostEfficientConfig(funcName) over the batch-4 data: rapp() at batch 4 is at most
  // 31.25 rps here (< 35), so none qualifies and the defaults come out: 30% SM (24 SMs),
  // quota 0.3, batch 4. Model a opens GPU 0; model b goes to the least occupied GPU in use
  // below 0.5 (GPU 0: occupancy 0 by integer division), into the row of the same SM share.
  ASSERT_EQ(r.executor.instances_of(0).size(), 1u);
  ASSERT_EQ(r.executor.instances_of(1).size(), 1u);
  for (int model : {0, 1}) {
    const Instance& pod = r.executor.instance(r.executor.instances_of(model).front());
    EXPECT_EQ(pod.gpu, 0);
    EXPECT_EQ(pod.max_batch, 4);
    EXPECT_EQ(r.cluster.slice(pod.slice).sm_count, 24);
    EXPECT_EQ(r.cluster.slice(pod.slice).partition, 0);
    EXPECT_DOUBLE_EQ(r.cluster.slice(pod.slice).quota, 0.3);
  }
}

TEST(HasGpuRows, ScaleUpRaisesQuotasAsFarAsTheRowAllowsThenAddsPodsThenGpus) {
  Rows r(true);
  // Model a's pod (24 SMs, 0.3, batch 4: 31.25 rps) shares row 0 of GPU 0 with model b's
  // (0.3). Prediction 100: deficit 100 - 0.9 × 31.25 = 71.875. Vertically the quota rises
  // while its gain (0: 10 ms from 0.3 up) stays below the deficit, as far as the row
  // allows: 0.7. Horizontally, pass 1: GPU 0's row 0 is full; its unused row takes the
  // heuristic 50% (40 SMs) and the best capacity, 31.25 at quota 0.3 (deficit 40.625); then
  // a new GPU (1) with the default shape, 24 SMs at 0.3 (31.25; deficit 9.375). Pass 2:
  // GPU 0 (occupancy 0, lowest index) again: row 1 (40 SMs, 0.7 free) gives 31.25 at 0.3,
  // and FindOptimalRowIdx puts the pod in row 1, the first of 40 SMs: covered.
  const int first = r.executor.instances_of(0).front();
  r.policy->ScaleUpForTest(0, 100);
  EXPECT_NEAR(r.cluster.slice(r.executor.instance(first).slice).quota, 0.7, 1e-9);
  const std::vector<int> pods = r.executor.instances_of(0);
  ASSERT_EQ(pods.size(), 4u);
  const int expected_gpu[] = {0, 0, 1, 0}, expected_sms[] = {24, 40, 24, 40};
  for (size_t i = 1; i < 4; ++i) {
    const Instance& pod = r.executor.instance(pods[i]);
    EXPECT_EQ(pod.gpu, expected_gpu[i]) << i;
    EXPECT_EQ(r.cluster.slice(pod.slice).sm_count, expected_sms[i]) << i;
    EXPECT_NEAR(r.cluster.slice(pod.slice).quota, 0.3, 1e-9) << i;
  }
  EXPECT_EQ(r.cluster.slice(r.executor.instance(pods[1]).slice).partition,
            r.cluster.slice(r.executor.instance(pods[3]).slice).partition);

  // Scale down at prediction 7: capacity 4 × 31.25 = 125, excess 0.9 × 125 - 7 = 105.5.
  // Pods by SM, fewest first (24, 24, 40, 40), each lowering its quota while its loss
  // (0 down to 0.3, 8.929 at 0.2, 14.803 at 0.1) stays below the excess and the quota above
  // 0: all four to 0.1 (excess 105.5 - 4 × 14.803 = 46.29). Then pods of at most 50% SM
  // whose capacity (16.447) fits in the excess go: the two 24-SM pods (46.29 -> 13.39);
  // the 40-SM pods (16.447 > 13.39) stay.
  r.policy->ScaleDownForTest(0, 7);
  EXPECT_FALSE(r.executor.instance(pods[0]).accepting());
  EXPECT_FALSE(r.executor.instance(pods[2]).accepting());
  for (int i : {1, 3}) {
    ASSERT_TRUE(r.executor.instance(pods[static_cast<size_t>(i)]).accepting());
    EXPECT_NEAR(r.cluster.slice(r.executor.instance(pods[static_cast<size_t>(i)]).slice).quota, 0.1, 1e-9);
  }
}
}  // namespace
}  // namespace gpuslice
