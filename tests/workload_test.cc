#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "sim/util/error.h"
#include "sim/util/json_reader.h"
#include "tests/test_util.h"
#include "traces/csv_trace.h"
#include "traces/poisson.h"
#include "traces/stages.h"
#include "traces/workload.h"

namespace gpuslice {
namespace {

std::unordered_map<std::string, int32_t> Functions() { return {{"a", 0}, {"b", 1}}; }

std::vector<Arrival> Drain(ArrivalStream& s) {
  std::vector<Arrival> out;
  Arrival a;
  while (s.Next(&a)) out.push_back(a);
  return out;
}

std::vector<WorkloadSource> Parse(const nlohmann::ordered_json& j) {
  return ParseWorkload("w.json", j, "/workload", testing::SourceDir() + "/scenarios", Functions());
}

TEST(Stages, HasGpuLoadsHaveTheirExactCounts) {
  // Σ processed_request_counts × 5 s: 538 × 5 = 2,690 (normal; the artifact's n) and
  // 423 × 5 = 2,115 (stress).
  for (auto [file, expected] : {std::pair{"workloads/has-gpu-normal.json", 2690}, {"workloads/has-gpu-stress.json", 2115}}) {
    auto sources = Parse(nlohmann::ordered_json::array({{{"type", "stages"}, {"function", "a"}, {"file", file}}}));
    ASSERT_EQ(sources[0].rates_rps.size(), 50u);
    EXPECT_DOUBLE_EQ(sources[0].stage_s, 5.0);
    auto stream = MakeArrivalStream(sources, 1, Functions());
    auto arrivals = Drain(*stream);
    EXPECT_EQ(arrivals.size(), static_cast<size_t>(expected)) << file;
    EXPECT_LT(arrivals.back().time, SecondsToSim(250));
  }
}

TEST(Stages, EvenSpacingPlacesEachStagesRequestsUniformly) {
  StagesStream s(0, {2, 0, 4}, SecondsToSim(1), SecondsToSim(10), StageSpacing::kEven, RngStream(1, "x"));
  auto a = Drain(s);
  std::vector<SimTime> times;
  for (auto& x : a) times.push_back(x.time);
  std::vector<SimTime> expected = {SecondsToSim(10), SecondsToSim(10.5), SecondsToSim(12), SecondsToSim(12.25),
                                   SecondsToSim(12.5), SecondsToSim(12.75)};
  EXPECT_EQ(times, expected);
}

TEST(Stages, UniformSpacingIsSortedAndExact) {
  StagesStream s(0, {100, 50}, SecondsToSim(2), 0, StageSpacing::kUniform, RngStream(1, "x"));
  auto a = Drain(s);
  ASSERT_EQ(a.size(), 300u);
  for (size_t i = 1; i < a.size(); ++i) EXPECT_LE(a[i - 1].time, a[i].time);
  EXPECT_LT(a[199].time, SecondsToSim(2));
  EXPECT_GE(a[200].time, SecondsToSim(2));
}

TEST(Poisson, CountAndGapsMatchTheRate) {
  PoissonStream s(0, 1000.0, 0, SecondsToSim(100), RngStream(7, "arrivals/a"));
  auto a = Drain(s);
  // 100,000 expected; Poisson standard deviation 316; allow 5 of them.
  EXPECT_NEAR(static_cast<double>(a.size()), 1e5, 5 * 316.0);
  double sum = 0, sum2 = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    double gap = SimToSeconds(a[i].time - a[i - 1].time);
    sum += gap;
    sum2 += gap * gap;
  }
  const double n = static_cast<double>(a.size() - 1);
  const double mean = sum / n, cv = std::sqrt(sum2 / n - mean * mean) / mean;
  EXPECT_NEAR(cv, 1.0, 0.02);
}

TEST(Merged, InterleavesByTimeAndKeepsEveryArrival) {
  auto sources = Parse(nlohmann::ordered_json::array({
      {{"type", "poisson"}, {"function", "a"}, {"rate_rps", 50}, {"end_s", 20}},
      {{"type", "poisson"}, {"function", "b"}, {"rate_rps", 30}, {"end_s", 20}},
      {{"type", "stages"}, {"function", "a"}, {"rates_rps", {5, 5}}, {"stage_s", 10}},
  }));
  EXPECT_EQ(sources[0].rng_stream, "arrivals/a");
  EXPECT_EQ(sources[2].rng_stream, "arrivals/a#1");
  auto merged = Drain(*MakeArrivalStream(sources, 3, Functions()));
  size_t separately = 0;
  for (const auto& w : sources) separately += Drain(*MakeArrivalStream({w}, 3, Functions())).size();
  EXPECT_EQ(merged.size(), separately);
  for (size_t i = 1; i < merged.size(); ++i) EXPECT_LE(merged[i - 1].time, merged[i].time);
}

TEST(CsvTrace, ReadsCrlfMissingNewlineAndExtraColumns) {
  std::string path = testing::WriteTempFile("t.csv", "time_s,function,tokens\r\n0.5,a,3\r\n\r\n0.5,b,1\r\n2.25,a,9");
  CsvTraceStream s(path, Functions(), false, SecondsToSim(1));
  auto a = Drain(s);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].time, SecondsToSim(1.5));
  EXPECT_EQ(a[1].function, 1);
  EXPECT_EQ(a[2].time, SecondsToSim(3.25));
}

TEST(CsvTrace, BadRowsStopWithFileAndLine) {
  struct Bad {
    std::string text;
    std::string message;
  } cases[] = {
      {"time_s,function\n1,a\n0.5,a\n", ":3: time_s goes back in time"},
      {"time_s,function\n1,zzz\n", ":2: function 'zzz' is not in the scenario"},
      {"time_s,function\nx,a\n", ":2: column 'time_s': 'x' is not a number"},
      {"time_s,function\n,a\n", ":2: column 'time_s': '' is not a number"},
      {"time_s\n1\n", ":1: header must name"},
      {"time_s,function\n-1,a\n", ":2: time_s must be >= 0"},
  };
  for (const Bad& b : cases) {
    std::string path = testing::WriteTempFile("bad.csv", b.text);
    try {
      CsvTraceStream s(path, Functions(), false, 0);
      Drain(s);
      ADD_FAILURE() << "no error for " << b.text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path + b.message), std::string::npos) << e.what();
    }
  }
}

TEST(CsvTrace, SkipsAndCountsUnknownFunctionsWhenAsked) {
  std::string path = testing::WriteTempFile("t.csv", "time_s,function\n1,a\n2,zzz\n3,b\n");
  CsvTraceStream s(path, Functions(), true, 0);
  EXPECT_EQ(Drain(s).size(), 2u);
  EXPECT_EQ(s.skipped_rows(), 1);
}

TEST(WorkloadSpec, RejectsBadSources) {
  struct Bad {
    nlohmann::ordered_json source;
    std::string message;
  } cases[] = {
      {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 0}, {"end_s", 5}}, "/workload/0/rate_rps: must be > 0"},
      {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", -3}, {"end_s", 5}}, "/workload/0/rate_rps: must be > 0"},
      {{{"type", "poisson"}, {"function", "q"}, {"rate_rps", 1}, {"end_s", 5}}, "/workload/0/function: unknown function 'q'"},
      {{{"type", "stages"}, {"function", "a"}, {"rates_rps", {1, -2}}, {"stage_s", 5}}, "/workload/0/rates_rps/1: expected a number >= 0"},
      {{{"type", "stages"}, {"function", "a"}, {"rates_rps", {1}}}, "/workload/0/stage_s: missing"},
      {{{"type", "zipf"}}, "/workload/0/type: unknown workload type 'zipf'"},
      {{{"type", "csv"}, {"file", "nope.csv"}}, "/workload/0/file: no such file"},
      {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 1}, {"end_s", 5}, {"rte", 3}}, "/workload/0/rte: unknown key"},
  };
  for (const Bad& b : cases) {
    try {
      Parse(nlohmann::ordered_json::array({b.source}));
      ADD_FAILURE() << "no error for " << b.source.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("w.json: " + b.message), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace gpuslice
