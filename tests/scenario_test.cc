#include <functional>

#include <gtest/gtest.h>

#include "sim/scenario.h"
#include "sim/util/error.h"
#include "sim/util/json_reader.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

std::string ErrorOf(const nlohmann::ordered_json& j) {
  try {
    testing::ParseInline(j);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

nlohmann::ordered_json Base() { return testing::FixedServersScenario(2, 10, 5, 10, "none"); }

TEST(Scenario, QuickstartLoadsAndEchoesDefaults) {
  Scenario s = LoadScenario(testing::SourceDir() + "/scenarios/quickstart.json");
  EXPECT_EQ(s.name, "quickstart");
  EXPECT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.total_gpus(), 4);
  nlohmann::ordered_json echo = s.ToJson(&s.policies[0]);
  EXPECT_EQ(echo["models"]["resnet50"]["max_batch"], 4);
  EXPECT_EQ(echo["cluster"]["nodes"][0]["price_per_hour"], 3.06);
  EXPECT_EQ(echo["workload"][0]["rates_rps"].size(), 50u);
  // The echo is itself a valid scenario that resolves to the same thing.
  Scenario again = ParseScenario(echo, "echo.json", "");
  EXPECT_EQ(again.ToJson(&again.policies[0]), echo);
}

TEST(Scenario, ErrorsNameTheJsonPath) {
  struct Case {
    std::function<void(nlohmann::ordered_json&)> edit;
    std::string message;
  } cases[] = {
      {[](auto& j) { j["models"]["m"]["slo_ms"] = 0; }, "inline.json: /models/m/slo_ms: must be > 0"},
      {[](auto& j) { j["models"]["m"]["slo_ms"] = -5; }, "inline.json: /models/m/slo_ms: must be > 0"},
      {[](auto& j) { j["models"]["m"]["memory_mb"] = 17000; }, "/models/m/memory_mb: model needs 17000 MB, more than any GPU"},
      {[](auto& j) { j["cluster"]["nodes"][0]["gpu"] = "V101"; }, "/cluster/nodes/0/gpu: unknown GPU type 'V101'"},
      {[](auto& j) { j["policies"]["fixed"]["policy"] = "magic"; }, "/policies/fixed/policy: unknown policy 'magic'"},
      {[](auto& j) { j["policies"]["fixed"]["target_utilisation"] = 0.5; }, "/policies/fixed/target_utilisation: unknown key"},
      {[](auto& j) { j["policies"]["fixed"]["initial_replicas"] = 3; }, "/policies/fixed/initial_replicas: 3 replicas"},
      {[](auto& j) { j["models"]["m"]["max_batch"] = 0; }, "/models/m/max_batch: must be in [1, 4096]"},
      {[](auto& j) { j["models"]["m"]["max_batch"] = 2.5; }, "/models/m/max_batch: expected an integer"},
      {[](auto& j) { j["models"]["m"].erase("slo_ms"); }, "/models/m/slo_ms: missing required key"},
      {[](auto& j) { j["workload"][0]["rate_rps"] = "fast"; }, "/workload/0/rate_rps: expected a number"},
      {[](auto& j) { j["sed"] = 3; }, "inline.json: /sed: unknown key"},
      {[](auto& j) { j["models"]["m"]["profile"] = "x.csv"; }, "/models/m: give exactly one of"},
  };
  for (auto& c : cases) {
    nlohmann::ordered_json j = Base();
    c.edit(j);
    std::string e = ErrorOf(j);
    EXPECT_NE(e.find(c.message), std::string::npos) << "got: " << e << "\nwanted: " << c.message;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
  }
}

TEST(Scenario, OverridesSetNestedValuesAndArrays) {
  nlohmann::ordered_json j = Base();
  ApplyOverride(j, "models.m.slo_ms=250");
  ApplyOverride(j, "workload.0.rate_rps=7.5");
  ApplyOverride(j, "policies.fixed.autoscaling=true");
  ApplyOverride(j, "name=renamed");
  EXPECT_EQ(j["models"]["m"]["slo_ms"], 250);
  EXPECT_EQ(j["workload"][0]["rate_rps"], 7.5);
  EXPECT_EQ(j["policies"]["fixed"]["autoscaling"], true);
  EXPECT_EQ(j["name"], "renamed");
  EXPECT_THROW(ApplyOverride(j, "workload.3.rate_rps=1"), InputError);
  EXPECT_THROW(ApplyOverride(j, "noequals"), InputError);
  EXPECT_THROW(ApplyOverride(j, "name.inner=1"), InputError);
}

TEST(Scenario, MalformedJsonNamesLineAndColumn) {
  std::string path = testing::WriteTempFile("bad.json", "{\n  \"name\": \"x\",\n  \"seed\": ,\n}\n");
  try {
    LoadScenario(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("malformed JSON"), std::string::npos) << e.what();
  }
}

TEST(Scenario, SelectsPolicyRunsByRunOrPolicyName) {
  Scenario s = LoadScenario(testing::SourceDir() + "/scenarios/quickstart.json");
  EXPECT_EQ(SelectPolicyRuns(s, "").size(), 6u);
  auto runs = SelectPolicyRuns(s, "kserve,whole-gpu");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].config["container_concurrency"], 15);
  EXPECT_EQ(runs[1].run_name, "whole-gpu");
  EXPECT_THROW(SelectPolicyRuns(s, "nope"), InputError);
}

}  // namespace
}  // namespace gpuslice
