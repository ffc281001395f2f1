// What a result stores must be enough to run it again: the resolved scenario (Scenario::ToJson)
// is a fixed point of loading, carries every policy default, and runs to the same summary.
#include <filesystem>

#include <gtest/gtest.h>

#include "sim/policies/policy.h"
#include "sim/summary_json.h"
#include "sim/util/json_reader.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ShippedScenarios() {
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(testing::SourceDir() + "/scenarios")) {
    if (e.path().extension() != ".json") continue;
    if (!ParseJsonFile(e.path().string()).contains("policies")) continue;  // workloads/ holds sources only
    paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(ResolvedScenario, EveryShippedScenarioIsAFixedPointOfLoading) {
  const std::vector<std::string> paths = ShippedScenarios();
  ASSERT_GE(paths.size(), 10u);
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    const Scenario first = LoadScenario(path);
    const nlohmann::ordered_json echo = first.ToJson();
    ASSERT_EQ(echo["policies"].size(), first.policies.size());
    // Loaded from another folder: every path in it must be absolute.
    const Scenario second = ParseScenario(echo, "echo.json", testing::TempDir());
    EXPECT_EQ(second.ToJson().dump(), echo.dump());
  }
}

TEST(ResolvedScenario, PolicyDefaultsAreFilledIn) {
  // docs/policies.md, whole-gpu: target_utilization 0.7, tick_s 2, stable_window_s 60,
  // panic_threshold_percent 200, scale_to_zero_grace_period_s 30.
  nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 5, 10, "none");
  j["policies"] = nlohmann::ordered_json::object();
  j["policies"]["plain"] = nlohmann::ordered_json::object({{"policy", "whole-gpu"}});
  const Scenario s = testing::ParseInline(j);
  const nlohmann::ordered_json echo = s.ToJson();
  const nlohmann::ordered_json& c = echo["policies"]["plain"];
  EXPECT_EQ(c["policy"], "whole-gpu");
  EXPECT_DOUBLE_EQ(c["target_utilization"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(c["tick_s"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(c["stable_window_s"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(c["panic_threshold_percent"].get<double>(), 200.0);
  EXPECT_DOUBLE_EQ(c["scale_to_zero_grace_period_s"].get<double>(), 30.0);
  // A registered name not in the scenario resolves the same way.
  const std::vector<PolicyRunSpec> runs = SelectPolicyRuns(s, "whole-gpu");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_DOUBLE_EQ(runs[0].config["tick_s"].get<double>(), 2.0);
}

TEST(ResolvedScenario, RunsToTheSameSummaryAsTheOriginal) {
  for (const char* name : {"quickstart.json", "gpulet-mix.json", "has-gpu-ablations.json"}) {
    SCOPED_TRACE(name);
    const std::string path = testing::SourceDir() + "/scenarios/" + name;
    const Scenario original = LoadScenario(path, {"duration_s=10"});
    const Scenario echoed = ParseScenario(original.ToJson(), "echo.json", testing::TempDir());
    ASSERT_EQ(original.policies.size(), echoed.policies.size());
    for (size_t i = 0; i < original.policies.size(); ++i) {
      const RunResult a = RunSimulation(original, original.policies[i]);
      const RunResult b = RunSimulation(echoed, echoed.policies[i]);
      EXPECT_EQ(RunSummaryJson(a).dump(), RunSummaryJson(b).dump()) << original.policies[i].run_name;
    }
  }
}

}  // namespace
}  // namespace gpuslice
