// Properties every registered policy must have, checked on each without naming it: a new
// policy is covered as soon as it is registered (with its default config).
//
// Monotone in load: on a two-model Poisson scenario, the SLO violation rate (mean of three
// seeds) never falls by more than 3 points as the offered load rises, over eight levels
// from light to well past the cluster's capacity. A scheduler may do worse at a higher
// load, never markedly better: if it did, its result at the lower load would be an artifact
// of how it reacts to load, not of the load (issue 12: gpulet's 0% at 1,200 rps after 80% at
// 1,000). Three points is the margin for the seed-to-seed noise of a 3-seed mean at these
// sizes (each run ends 6,000 to 150,000 requests).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "sim/policies/policy.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> RegisteredPolicies() {
  std::vector<std::string> names;
  std::stringstream list(PolicyRegistry::Names());
  std::string name;
  while (std::getline(list, name, ',')) {
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

// ResNet-50 and MobileNet-V3 (V100 profiles) on four V100s, each model at `rate_rps`
// Poisson for 60 s, HAS-GPU's time outside the GPU.
Json TwoModels(const std::string& policy, double rate_rps, uint64_t seed) {
  const std::string profiles = testing::SourceDir() + "/gpu/profiles/v100/";
  auto model = [&](const std::string& file, double slo_ms) {
    return Json{{"profile", profiles + file}, {"slo_ms", slo_ms}, {"memory_mb", 2700}, {"load_time_s", 4},
                {"network_ms", 10}, {"preprocess_ms", 52}, {"postprocess_ms", 2}, {"pod_cpu_cores", 8},
                {"max_batch", 4}, {"queue_timeout_s", 10}};
  };
  return {{"name", "monotone"},
          {"seed", seed},
          {"cluster", {{"nodes", {{{"count", 4}, {"gpu", "V100-16GB"}}}}, {"container_start_s", 2}}},
          {"models", {{"resnet50", model("resnet50.csv", 200)}, {"mobilenet", model("mobilenet_v3_large.csv", 150)}}},
          {"workload", {{{"type", "poisson"}, {"function", "resnet50"}, {"rate_rps", rate_rps}, {"end_s", 60}},
                        {{"type", "poisson"}, {"function", "mobilenet"}, {"rate_rps", rate_rps}, {"end_s", 60}}}},
          {"output", {{"interval_s", 10.0}, {"per_model_timeseries", false}}},
          {"policies", {{policy, {{"policy", policy}}}}}};
}

// Policies that reproduce public code which is itself not monotone here, with the reason
// (issue 12 stays open on them). has-gpu: HAS-GPU's controller gives each model's first pod
// GetMostEfficientConfig's default (30% SM, quota 0.3) and puts both models' first pods in
// one row; FindOptimalRowIdx then sends new pods of the same share to that full row. At
// 25 rps MobileNet-V3 sits at quota 0.5 of 30% SM (about 36 ms a batch under the token
// schedule, 100-150 ms with the 64 ms outside the GPU) against its 150 ms SLO, while at
// higher loads the scaler has opened more pods: 34% of requests late at 25 rps, 20% at
// 150 rps (seeds 1-3).
bool KnownNonMonotone(const std::string& policy) { return policy == "has-gpu"; }

class EveryPolicy : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPolicy, ViolationsNeverFallMarkedlyAsLoadRises) {
  const std::string& policy = GetParam();
  const std::vector<double> rates = {25, 50, 100, 150, 200, 300, 450, 600};
  std::vector<double> mean;
  std::string curve;
  for (double rate : rates) {
    double sum = 0;
    for (uint64_t seed = 1; seed <= 3; ++seed) sum += testing::RunInline(TwoModels(policy, rate, seed)).overall.violation_rate;
    mean.push_back(sum / 3);
    char point[48];
    std::snprintf(point, sizeof point, " %.0f:%.1f%%", rate, 100 * mean.back());
    curve += point;
  }
  std::printf("%s:%s\n", policy.c_str(), curve.c_str());
  size_t falls = 0;
  for (size_t i = 1; i < mean.size(); ++i) falls += mean[i] < mean[i - 1] - 0.03;
  if (KnownNonMonotone(policy)) {
    // A known failure, kept visible: when it no longer falls, this fails, so that the
    // policy leaves the list and the property holds for it from then on.
    EXPECT_GT(falls, 0u) << policy << " is monotone now (curve" << curve << "): remove it from KnownNonMonotone";
    return;
  }
  for (size_t i = 1; i < mean.size(); ++i) {
    EXPECT_GE(mean[i], mean[i - 1] - 0.03)
        << policy << ": violations fall from " << 100 * mean[i - 1] << "% at " << rates[i - 1] << " rps to "
        << 100 * mean[i] << "% at " << rates[i] << " rps per model (curve" << curve << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Registered, EveryPolicy, ::testing::ValuesIn(RegisteredPolicies()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(EveryPolicyList, HasEveryPolicyOfTheDocs) {
  // The registry the property above runs over is not empty or partial.
  EXPECT_GE(RegisteredPolicies().size(), 5u);
}

}  // namespace
}  // namespace gpuslice
