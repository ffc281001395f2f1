#include <cmath>

#include <gtest/gtest.h>

#include "sim/policies/has_gpu.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

TEST(KalmanRate, MatchesAHandWorkedSequence) {
  KalmanRate k(1, 10);
  // First measurement initialises: x = 10, P = 1 -> 11.
  EXPECT_DOUBLE_EQ(k.Update(10), 11.0);
  // P' = 2, K = 2 / 12, x = 10, P = (1 - K)·2 = 5/3 -> 10 + 1.29099.
  EXPECT_NEAR(k.Update(10), 10 + std::sqrt(5.0 / 3.0), 1e-12);
  // P' = 8/3, K = (8/3) / (38/3) = 4/19, x = 10 + 40/19, P = (15/19)·(8/3) = 40/19.
  EXPECT_NEAR(k.Update(20), 10 + 40.0 / 19 + std::sqrt(40.0 / 19), 1e-12);
  EXPECT_NEAR(k.estimate(), 10 + 40.0 / 19, 1e-12);
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
  EXPECT_LT(r.overall.violation_rate, 0.05);
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
  for (const Action& a : r.actions.actions()) {
    if (a.kind == "start") ++live;
    if (a.kind == "drain") --live;
    if (SimToSeconds(a.time) > 0) min_live = std::min(min_live, live);
  }
  EXPECT_GE(min_live, 1);
  // After the load falls to 2 rps, it scaled down to one pod.
  EXPECT_EQ(live, 1);
}

TEST(HasGpu, OnePodPerModelFromTheStartWithTheMostEfficientShape) {
  Json j = Step({{"policy", "has-gpu"}});
  Scenario s = testing::ParseInline(j);
  RunResult r = RunSimulation(s, s.policies.front());
  const Action& first = r.actions.actions().front();
  EXPECT_EQ(first.kind, "start");
  EXPECT_EQ(first.detail, "warm");
  // The most efficient shape serving >= 35 rps by the scaler's model is a fraction of a GPU.
  EXPECT_LT(first.sm_count * first.quota, 80);
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
            {"policies", {{"h", {{"policy", "has-gpu"}, {"alignment", alignment}}}}},
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

TEST(HasGpuRows, AlignmentJoinsARowOfTheSameSmShare) {
  Rows r(true);
  r.Hold(-1, 24, 0.5);  // row 0: 30% (24 SMs), half its quota free
  // Shortfall 10 rps: the heuristic's share is 30%; the aligned row takes the pod.
  ASSERT_TRUE(r.policy->PlacePodForTest(0, 2, 10));
  const Gpu& g = r.cluster.gpu(2);
  EXPECT_EQ(g.slices.size(), 2u);
  EXPECT_EQ(r.cluster.slice(g.slices[1]).partition, 0);
  EXPECT_EQ(r.cluster.slice(g.slices[1]).sm_count, 24);
}

TEST(HasGpuRows, WithoutAlignmentAnEmptyRowComesFirst) {
  Rows r(false);
  r.Hold(-1, 24, 0.5);
  ASSERT_TRUE(r.policy->PlacePodForTest(0, 2, 10));
  const Gpu& g = r.cluster.gpu(2);
  EXPECT_EQ(r.cluster.slice(g.slices[1]).partition, 1);  // a new, second row
  EXPECT_EQ(r.cluster.slice(g.slices[1]).sm_count, 24);
}

TEST(HasGpuRows, ElseTheRowWithTheMostFreeQuota) {
  Rows r(true);
  r.Hold(-1, 40, 0.8);  // row 0: 50%, 0.2 free
  r.Hold(-1, 32, 0.4);  // row 1: 40%, 0.6 free; two rows: no empty row left
  // Shortfall 30 rps: the heuristic asks for 50%; alignment takes row 0 (50%, 0.2 free)
  // although row 1 has more free quota.
  ASSERT_TRUE(r.policy->PlacePodForTest(0, 2, 30));
  EXPECT_EQ(r.cluster.slice(r.cluster.gpu(2).slices[2]).partition, 0);
  // A 30% request has no aligned row and no empty row: the freest row (row 1) takes it.
  ASSERT_TRUE(r.policy->PlacePodForTest(0, 2, 10));
  EXPECT_EQ(r.cluster.slice(r.cluster.gpu(2).slices[3]).partition, 1);
  EXPECT_EQ(r.cluster.CheckInvariants(), "");
}

}  // namespace
}  // namespace gpuslice
