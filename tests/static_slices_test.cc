// The static-slices policy (placement, sizing by predictor) and the interference model.
#include <map>

#include <gtest/gtest.h>

#include "sim/policies/static_slices.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

Json TwoModels(int gpus, Json pods, Json workload) {
  return {
      {"name", "slices"},
      {"cluster", {{"nodes", {{{"count", gpus}, {"gpu", "V100-16GB"}}}}}},
      {"models", {{"a", {{"latency_ms", 10}, {"slo_ms", 1000}, {"memory_mb", 1000}, {"max_batch", 4}}},
                  {"b", {{"latency_ms", 10}, {"slo_ms", 1000}, {"memory_mb", 1000}, {"max_batch", 4}}}}},
      {"workload", workload},
      {"policies", {{"p", {{"policy", "static-slices"}, {"pods", pods}}}}},
  };
}

Json OneRequestEach(double t_a, double t_b) {
  std::string path = testing::WriteTempFile(
      "t.csv", "time_s,function\n" + (t_a <= t_b ? std::to_string(t_a) + ",a\n" + std::to_string(t_b) + ",b\n"
                                                  : std::to_string(t_b) + ",b\n" + std::to_string(t_a) + ",a\n"));
  return Json::array({{{"type", "csv"}, {"file", path}}});
}

TEST(StaticSlices, TimeSharesPartitionsThenSpaceSharesThenRefuses) {
  // 50% of a V100 is 40 SMs; quota 0.3: three pods time-share a partition, two partitions
  // fit a GPU, so 2 GPUs hold 12 pods and the 13th is refused.
  Json j = TwoModels(2, {{{"model", "a"}, {"sm_percent", 50}, {"quota", 0.3}, {"count", 13}}}, OneRequestEach(0, 0));
  RunResult r = testing::RunInline(j);
  std::vector<std::tuple<int, int, double>> starts;  // gpu, sm, quota
  int refused = 0;
  for (const Action& a : r.actions.actions()) {
    if (a.kind == "start") starts.push_back({a.gpu, a.sm_count, a.quota});
    refused += a.kind == "refused";
  }
  ASSERT_EQ(starts.size(), 12u);
  EXPECT_EQ(refused, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    EXPECT_EQ(std::get<0>(starts[i]), static_cast<int>(i / 6)) << i;
    EXPECT_EQ(std::get<1>(starts[i]), 40);
    EXPECT_DOUBLE_EQ(std::get<2>(starts[i]), 0.3);
  }
  // Fractional cost: 12 pods × 0.5 × 0.3 = 1.8 GPUs for the whole run; whole-GPU: 2.
  EXPECT_NEAR(r.overall.fractional_gpu_s / r.simulated_s, 1.8, 1e-9);
  EXPECT_NEAR(r.overall.whole_gpu_s / r.simulated_s, 2.0, 1e-9);
}

TEST(StaticSlices, SizesPodsFromThePredictedThroughput) {
  // Constant 10 ms for a batch of 4: 400 rps per pod; 1000 rps at 50% target: 5 pods.
  Scenario s = testing::ParseInline(TwoModels(1, {{{"model", "a"}, {"rate_rps", 1000}, {"target_utilization", 0.5}}},
                                              OneRequestEach(0, 0)));
  PerfModel truth({s.models[0].curve, s.models[1].curve}, 40);
  auto oracle = MakePredictor({"oracle"}, truth);
  PodSpec pod{0, 100, 1.0, 0, 1000, 0.5};
  EXPECT_EQ(StaticSlicesPolicy::SizePods(pod, *oracle, s, 80), 5);
  pod.rate_rps = 1001;
  EXPECT_EQ(StaticSlicesPolicy::SizePods(pod, *oracle, s, 80), 6);
  pod.count = 2;
  EXPECT_EQ(StaticSlicesPolicy::SizePods(pod, *oracle, s, 80), 2);
}

TEST(StaticSlices, RejectsBadPods) {
  for (auto [pods, message] : std::vector<std::pair<Json, std::string>>{
           {Json::array({{{"model", "zz"}, {"count", 1}}}), "/policies/p/pods/0/model: unknown model 'zz'"},
           {Json::array({{{"model", "a"}}}), "/policies/p/pods/0: give exactly one of \"count\" and \"rate_rps\""},
           {Json::array({{{"model", "a"}, {"count", 1}, {"quota", 1.5}}}), "/policies/p/pods/0/quota: must be in (0, 1]"},
           {Json::array({{{"model", "a"}, {"count", 1}}}), ""}}) {
    Json j = TwoModels(1, pods, OneRequestEach(0, 0));
    j["policies"]["p"]["predictor"] = "learned";
    std::string error;
    try {
      testing::ParseInline(j);
    } catch (const InputError& e) {
      error = e.what();
    }
    if (message.empty()) {
      EXPECT_EQ(error, "");
    } else {
      EXPECT_NE(error.find(message), std::string::npos) << error;
    }
  }
  Json j = TwoModels(1, Json::array({{{"model", "a"}, {"count", 1}}}), OneRequestEach(0, 0));
  j["policies"]["p"]["predictor"] = "tea-leaves";
  EXPECT_THROW(testing::ParseInline(j), InputError);
}

// Two models on two half-GPU partitions, each fully memory- and L2-bound (utilisation 1).
Json Interfering(double t_a, double t_b, double util_a, double util_b) {
  Json j = TwoModels(1, {{{"model", "a"}, {"sm_percent", 50}, {"count", 1}}, {{"model", "b"}, {"sm_percent", 50}, {"count", 1}}},
                     OneRequestEach(t_a, t_b));
  j["models"]["a"]["l2_util"] = util_a;
  j["models"]["a"]["dram_util"] = util_a;
  j["models"]["b"]["l2_util"] = util_b;
  j["models"]["b"]["dram_util"] = util_b;
  return j;
}

TEST(Interference, BothCoRunnersAreSlowedWhileTheyOverlapAndNoLonger) {
  // a (10 ms of work) starts at 0, b (10 ms) at 1 ms, in the GPU's two 50% partitions. While
  // both run each is slowed by gpu-lets' alpha = 0.5·(c0 + c2)·1 + 0.5·(c1 + c3)·1 + c4
  // with the default coefficients (0.1129, 0.7160, 0.3549, 0.0882, 0.8954) = 1.53140.
  // a: 1 ms alone, then 9 ms of work at 1/1.5314: ends at 1 + 9·1.5314 = 14.7826 ms.
  // b: from 1 ms to 14.7826 ms it does 9 ms of work; its last 1 ms runs alone at full speed
  // (the slowdown ends when a stops): ends at 15.7826, latency 14.7826 ms.
  const double alpha = 0.5 * (0.1129 + 0.3549) + 0.5 * (0.7160 + 0.0882) + 0.8954;
  const double expected = 1.0 + 9.0 * alpha;
  RunResult r = testing::RunInline(Interfering(0, 0.001, 1, 1));
  EXPECT_NEAR(r.models[0].latency_max_ms, expected, 1e-5);
  EXPECT_NEAR(r.models[1].latency_max_ms, expected, 1e-5);
  // Asymmetric loads: b moves no memory. a is slowed by alpha_a = 0.5·(c0 + c2) + c4
  // = 1.1293; b by alpha_b = 0.5·(c1 + c3) + c4 = 1.2975. a: 1 + 9·1.1293 = 11.1637 ms.
  // b: by then 10.1637 ms at 1/1.2975 = 7.8333 ms of work; 2.1667 ms alone: latency
  // 10.1637 + 2.1667 = 12.3304 ms.
  Json uneven = Interfering(0, 0.001, 1, 0);
  const double alpha_a = 0.5 * (0.1129 + 0.3549) + 0.8954;
  const double alpha_b = 0.5 * (0.7160 + 0.0882) + 0.8954;
  const double a_end = 1.0 + 9.0 * alpha_a;
  const double b_done = (a_end - 1.0) / alpha_b;
  RunResult u = testing::RunInline(uneven);
  EXPECT_NEAR(u.models[0].latency_max_ms, a_end, 1e-5);
  EXPECT_NEAR(u.models[1].latency_max_ms, (a_end - 1.0) + (10.0 - b_done), 1e-5);
}

TEST(Interference, BoundedBelowByOneAndOffWhenDisabled) {
  // No memory traffic: alpha = c4 < 1, so no slowdown (never a speed-up).
  RunResult quiet = testing::RunInline(Interfering(0, 0.001, 0, 0));
  EXPECT_NEAR(quiet.models[1].latency_max_ms, 10.0, 1e-6);
  // Not running at once: no slowdown.
  RunResult apart = testing::RunInline(Interfering(0, 0.5, 1, 1));
  EXPECT_NEAR(apart.models[1].latency_max_ms, 10.0, 1e-6);
  Json off = Interfering(0, 0.001, 1, 1);
  off["cluster"]["interference"] = {{"enabled", false}};
  EXPECT_NEAR(testing::RunInline(off).models[1].latency_max_ms, 10.0, 1e-6);
  // Upper bound: the sum of the coefficients at full SM fractions.
  Json bad = Interfering(0, 0.001, 1, 1);
  bad["models"]["a"]["l2_util"] = 1.5;
  EXPECT_THROW(testing::ParseInline(bad), InputError);
}

}  // namespace
}  // namespace gpuslice

namespace gpuslice {
namespace {

TEST(PredictorError, TheScenarioShowsWhatEachPredictorsErrorCosts) {
  // scenarios/predictor-error.json: pods of 50% SM at quota 0.3 sized for 400 rps by each
  // predictor. The truth at batch 4 is 54.7 ms; the token-window rule says 48.9 ms (too
  // optimistic: too few pods, SLO violations), the coarse table ~100 ms (too pessimistic:
  // too many pods, cost), the learned model matches the oracle. The SLO is 250 ms: three
  // pods share each 50% partition and a batch-4 token period overruns to the whole batch
  // (54.7 ms), so a request can wait for two neighbours' periods: 3 × 54.7 = 164 ms, which
  // no predictor's sizing changes.
  Scenario s = LoadScenario(testing::SourceDir() + "/scenarios/predictor-error.json");
  std::map<std::string, RunResult> r;
  for (const PolicyRunSpec& p : s.policies) r[p.run_name] = RunSimulation(s, p);
  const auto& oracle = r["oracle"].overall;
  EXPECT_EQ(r["learned"].overall.peak_instances, oracle.peak_instances);
  EXPECT_LT(r["token-window"].overall.peak_instances, oracle.peak_instances);
  EXPECT_GT(r["token-window"].overall.violation_rate, 5 * oracle.violation_rate);
  EXPECT_GT(r["coarse-profile"].overall.peak_instances, oracle.peak_instances);
  EXPECT_GT(r["coarse-profile"].overall.fractional_usd, 1.5 * oracle.fractional_usd);
  EXPECT_LE(r["coarse-profile"].overall.violation_rate, oracle.violation_rate);
}

}  // namespace
}  // namespace gpuslice
