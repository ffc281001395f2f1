// Random scenarios under every policy: the cluster never breaks an invariant (SMs, quotas,
// memory), every request ends exactly once, and runs are reproducible.
#include <gtest/gtest.h>

#include "sim/summary_json.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

Json RandomScenario(uint64_t seed, RngStream& rng) {
  const int gpus = 1 + static_cast<int>(rng.Below(4));
  const int models = 1 + static_cast<int>(rng.Below(3));
  Json j = {{"name", "random"}, {"seed", seed}};
  j["cluster"] = {{"nodes", {{{"count", gpus}, {"gpu", "V100-16GB"}}}}, {"container_start_s", rng.Uniform() * 3}};
  j["executor"] = {{"noise", {{"kind", "lognormal"}, {"cv", 0.2}}}};
  j["output"] = {{"interval_s", 5}};
  for (int m = 0; m < models; ++m) {
    const std::string name = std::string("m").append(std::to_string(m));
    Json model = {{"slo_ms", 50 + rng.Uniform() * 200}, {"memory_mb", 500 + static_cast<int>(rng.Below(6000))},
                  {"load_time_s", rng.Uniform() * 5}, {"max_batch", 1 + static_cast<int>(rng.Below(8))},
                  {"queue_timeout_s", 1 + rng.Uniform() * 10}, {"l2_util", rng.Uniform()}, {"dram_util", rng.Uniform()}};
    if (rng.Uniform() < 0.5) {
      model["profile"] = testing::SourceDir() + (rng.Uniform() < 0.5 ? "/gpu/profiles/v100/resnet50.csv"
                                                                      : "/gpu/profiles/v100/mobilenet_v3_large.csv");
    } else {
      model["latency_ms"] = 2 + rng.Uniform() * 40;
    }
    j["models"][name] = model;
    const double rate = 1 + rng.Uniform() * 150;
    if (rng.Uniform() < 0.5) {
      j["workload"].push_back({{"type", "poisson"}, {"function", name}, {"rate_rps", rate}, {"end_s", 120}});
    } else {
      j["workload"].push_back({{"type", "mmpp"}, {"function", name}, {"rates_rps", {rate / 10, rate * 2}},
                               {"mean_sojourn_s", {10, 5}}, {"end_s", 120}});
    }
  }
  j["policies"]["whole-gpu"] = {{"policy", "whole-gpu"}, {"initial_replicas", 0},
                                {"container_concurrency", static_cast<int>(rng.Below(20))},
                                {"max_replicas", static_cast<int>(rng.Below(4))}};
  Json pods = Json::array();
  for (int m = 0; m < models; ++m) {
    pods.push_back({{"model", std::string("m").append(std::to_string(m))}, {"sm_percent", 5 + 5 * static_cast<int>(rng.Below(20))},
                    {"quota", 0.1 * (1 + static_cast<int>(rng.Below(10)))}, {"count", 1 + static_cast<int>(rng.Below(8))}});
  }
  j["policies"]["static-slices"] = {{"policy", "static-slices"}, {"pods", pods}};
  j["policies"]["fast-gshare"] = {{"policy", "fast-gshare"}, {"sm_percent", 10 + 10 * static_cast<int>(rng.Below(9))},
                                  {"quota", 0.1 * (1 + static_cast<int>(rng.Below(10)))}, {"interval_s", 2}};
  j["policies"]["gpulet"] = {{"policy", "gpulet"}, {"epoch_s", 5}, {"window_s", 10}};
  j["policies"]["has-gpu"] = {{"policy", "has-gpu"}, {"alignment", rng.Uniform() < 0.5}};
  return j;
}

TEST(Invariants, HoldUnderRandomScenariosAndPolicies) {
  RngStream rng(2026, "invariants");
  int runs = 0;
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    Json j = RandomScenario(seed, rng);
    Scenario s = testing::ParseInline(j);
    for (const PolicyRunSpec& p : s.policies) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", " + p.run_name + ": " + j.dump());
      RunOptions options;
      options.paranoid = true;
      RunResult r = RunSimulation(s, p, options);  // throws on a broken invariant or conservation
      EXPECT_EQ(r.overall.arrived, r.overall.completed + r.overall.dropped_total + r.overall.in_flight_at_end);
      EXPECT_LT(r.littles_law.relative_error, 1e-6);
      EXPECT_GE(r.overall.whole_gpu_s, r.overall.fractional_gpu_s - 1e-6);
      ++runs;
      if (seed % 5 == 0) {
        RunResult again = RunSimulation(s, p, options);
        EXPECT_EQ(RunSummaryJson(again).dump(), RunSummaryJson(r).dump());
      }
    }
  }
  EXPECT_EQ(runs, 125);
}

}  // namespace
}  // namespace gpuslice
