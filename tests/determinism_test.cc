#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sim/summary_json.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

std::string Summary(long long seed, bool helper_threads = false, const std::string& scenario = "quickstart",
                    std::vector<std::string> sets = {}) {
  sets.push_back("seed=" + std::to_string(seed));
  Scenario s = LoadScenario(testing::SourceDir() + "/scenarios/" + scenario + ".json", sets);
  RunOptions options;
  options.helper_threads = helper_threads;
  std::vector<RunResult> runs;
  for (const PolicyRunSpec& p : s.policies) runs.push_back(RunSimulation(s, p, options));
  return SummaryJson(s.name, runs).dump(2);
}

TEST(Determinism, SameScenarioAndSeedGiveIdenticalSummaries) {
  const std::string a = Summary(5), b = Summary(5), c = Summary(6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

// The helper threads (RunOptions::helper_threads) apply the same updates in the same order:
// every number of every run is the same. The second scenario has 64 functions of three
// arrival processes and stops at duration_s, where the arrival reader must stop too.
TEST(Determinism, HelperThreadsGiveIdenticalSummaries) {
  EXPECT_EQ(Summary(3, false), Summary(3, true));
  EXPECT_EQ(Summary(4, false, "azure-population-64", {"duration_s=300"}),
            Summary(4, true, "azure-population-64", {"duration_s=300"}));
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

// One run alone (helper threads where a core is spare) against --no-helper-threads: the
// same summary, byte for byte.
TEST(Determinism, NoHelperThreadsFlagGivesTheSameSummary) {
  const std::string dir = testing::TempDir();
  for (const char* flag : {"", " --no-helper-threads"}) {
    auto r = testing::RunCommand(std::string(GPUSLICE_BINARY) + " run " + testing::SourceDir() +
                                 "/scenarios/quickstart.json --policy has-gpu --no-output --force --summary-json " +
                                 dir + "/h" + (*flag ? "1" : "0") + ".json" + flag);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const std::string a = ReadFile(dir + "/h0.json");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, ReadFile(dir + "/h1.json"));
}

}  // namespace
}  // namespace gpuslice
