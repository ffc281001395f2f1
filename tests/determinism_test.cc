#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sim/summary_json.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

std::string Summary(long long seed) {
  Scenario s = LoadScenario(testing::SourceDir() + "/scenarios/quickstart.json", {"seed=" + std::to_string(seed)});
  std::vector<RunResult> runs;
  for (const PolicyRunSpec& p : s.policies) runs.push_back(RunSimulation(s, p));
  return SummaryJson(s.name, runs).dump(2);
}

TEST(Determinism, SameScenarioAndSeedGiveIdenticalSummaries) {
  const std::string a = Summary(5), b = Summary(5), c = Summary(6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Determinism, CliSummaryJsonIsByteIdentical) {
  const std::string dir = testing::TempDir();
  for (const char* name : {"a", "b"}) {
    auto r = testing::RunCommand(std::string(GPUSLICE_BINARY) + " compare " + testing::SourceDir() +
                                 "/scenarios/quickstart.json --no-output --summary-json " + dir + "/" + name + ".json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const std::string a = ReadFile(dir + "/a.json");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, ReadFile(dir + "/b.json"));
}

}  // namespace
}  // namespace gpuslice
