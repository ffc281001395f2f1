// Each trace format replays end to end through a scenario, as `gpuslice run` does.
#include <gtest/gtest.h>

#include "sim/simulation.h"
#include "tests/test_util.h"
#include "traces/workload.h"

namespace gpuslice {
namespace {

class TraceReplay : public ::testing::TestWithParam<const char*> {};

TEST_P(TraceReplay, EveryRequestOfTheTraceIsServedOrAccountedFor) {
  const std::string path = testing::SourceDir() + "/scenarios/traces/" + GetParam() + ".json";
  Scenario s = LoadScenario(path);
  // The workload on its own, streamed: how many requests the run must see.
  Workload w(s.workload, s.seed, s.function_index);
  long long expected = 0;
  Arrival a;
  while (w.stream().Next(&a)) ++expected;
  ASSERT_GT(expected, 0);
  RunResult r = RunSimulation(s, s.policies.front());
  EXPECT_EQ(static_cast<long long>(r.overall.arrived), expected);
  EXPECT_EQ(r.overall.arrived, r.overall.completed + r.overall.dropped_total + r.overall.in_flight_at_end);
  EXPECT_GT(r.overall.completed, 0u);
  EXPECT_EQ(r.skipped_rows, w.skipped_rows());
}

INSTANTIATE_TEST_SUITE_P(Formats, TraceReplay,
                         ::testing::Values("azure-functions-2019", "azure-functions-2021", "azure-llm", "alibaba-genai",
                                           "mooncake", "csv"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string n = p.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

TEST(TraceReplay, SkippedRowsAreReportedNotDropped) {
  // The Alibaba trace's 25 rows without a model id: skipped and counted when asked, over the
  // whole trace.
  nlohmann::ordered_json j = {
      {"name", "alibaba-all"},
      {"cluster", {{"nodes", {{{"count", 2}, {"gpu", "V100-16GB"}}}}}},
      {"models", {{"sd", {{"latency_ms", 50}, {"slo_ms", 1000}, {"memory_mb", 1000}}}}},
      {"function_mapping", {{"rule", "round_robin"}}},
      {"workload", {{{"type", "alibaba-genai"}, {"file", "tests/fixtures/traces/alibaba-genai-v2026/lora_request_trace.csv"},
                     {"skip_bad_rows", true}, {"time_scale", 1000}}}},
      {"policies", {{"p", {{"policy", "whole-gpu"}}}}},
  };
  RunResult r = testing::RunInline(j);
  EXPECT_EQ(r.skipped_rows, 25);
  EXPECT_EQ(r.overall.arrived, 26823u - 25u);
}

}  // namespace
}  // namespace gpuslice
