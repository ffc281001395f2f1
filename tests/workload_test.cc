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

using Json = nlohmann::ordered_json;

std::vector<Arrival> Drain(ArrivalStream& s) {
  std::vector<Arrival> out;
  Arrival a;
  while (s.Next(&a)) out.push_back(a);
  return out;
}

std::vector<WorkloadSource> Parse(const Json& j) {
  return ParseWorkload("w.json", j, "/workload", testing::SourceDir() + "/scenarios");
}

// Every function the sources emit, indexed in order of appearance.
NameIndex IndexOf(const std::vector<WorkloadSource>& sources, std::vector<std::string>* names = nullptr) {
  NameIndex index;
  for (const auto& w : sources) {
    for (const auto& f : w.functions) {
      if (index.emplace(f, static_cast<int32_t>(index.size())).second && names) names->push_back(f);
    }
  }
  return index;
}

std::vector<Arrival> Replay(const Json& sources_json, uint64_t seed = 1, Workload** keep = nullptr) {
  static std::vector<std::unique_ptr<Workload>> alive;
  auto sources = Parse(sources_json);
  static std::vector<NameIndex> indices;
  indices.push_back(IndexOf(sources));
  alive.push_back(std::make_unique<Workload>(sources, seed, indices.back()));
  if (keep) *keep = alive.back().get();
  return Drain(alive.back()->stream());
}

TEST(Stages, HasGpuLoadsHaveTheirExactCounts) {
  // Σ processed_request_counts × 5 s: 538 × 5 = 2,690 (normal; the artifact's n) and
  // 423 × 5 = 2,115 (stress).
  for (auto [file, expected] : {std::pair{"workloads/has-gpu-normal.json", 2690}, {"workloads/has-gpu-stress.json", 2115}}) {
    auto sources = Parse(Json::array({{{"type", "stages"}, {"function", "a"}, {"file", file}}}));
    ASSERT_EQ(sources[0].rates_rps.size(), 50u);
    EXPECT_DOUBLE_EQ(sources[0].stage_s, 5.0);
    auto arrivals = Replay(Json::array({{{"type", "stages"}, {"function", "a"}, {"file", file}}}));
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

struct GapStats {
  double count, mean, cv;
};
GapStats Gaps(const std::vector<Arrival>& a) {
  double sum = 0, sum2 = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    const double gap = SimToSeconds(a[i].time - a[i - 1].time);
    sum += gap;
    sum2 += gap * gap;
  }
  const double n = static_cast<double>(a.size() - 1);
  const double mean = sum / n;
  return {static_cast<double>(a.size()), mean, std::sqrt(sum2 / n - mean * mean) / mean};
}

TEST(Generators, GammaHasItsRateAndCv) {
  for (double cv : {0.5, 1.0, 3.0}) {
    auto a = Replay(Json::array({{{"type", "gamma"}, {"function", "a"}, {"rate_rps", 100}, {"cv", cv}, {"end_s", 2000}}}));
    GapStats g = Gaps(a);
    EXPECT_NEAR(g.mean, 0.01, 0.01 * 0.03) << cv;
    EXPECT_NEAR(g.cv, cv, cv * 0.05) << cv;
  }
}

TEST(Generators, MmppHasItsMeanRateAndIsBursty) {
  // Rates 5 and 95 rps, mean sojourns 30 s and 10 s: mean rate (5·30 + 95·10) / 40 = 27.5.
  auto a = Replay(Json::array({{{"type", "mmpp"}, {"function", "a"}, {"rates_rps", {5, 95}},
                                {"mean_sojourn_s", {30, 10}}, {"end_s", 40000}}}));
  EXPECT_NEAR(static_cast<double>(a.size()) / 40000, 27.5, 27.5 * 0.05);
  EXPECT_GT(Gaps(a).cv, 1.3);
}

TEST(Generators, DiurnalFollowsItsCurve) {
  // Mean 10 rps, amplitude 0.8, period 1000 s, peak at 250 s: the quarter around the peak
  // carries much more than the quarter around the trough (at 750 s).
  auto a = Replay(Json::array({{{"type", "diurnal"}, {"function", "a"}, {"mean_rps", 10}, {"amplitude", 0.8},
                                {"period_s", 1000}, {"peak_s", 250}, {"end_s", 100000}}}));
  EXPECT_NEAR(static_cast<double>(a.size()) / 100000, 10.0, 0.1);
  double peak = 0, trough = 0;
  for (const Arrival& x : a) {
    const double phase = std::fmod(SimToSeconds(x.time), 1000.0);
    if (phase >= 125 && phase < 375) ++peak;
    if (phase >= 625 && phase < 875) ++trough;
  }
  // ∫ of 1 + 0.8 cos over a quarter centred on the peak / trough: 250 ± 0.8·1000/π·sin(π/4).
  const double bump = 0.8 * 1000 / M_PI * std::sqrt(0.5);  // 0.8 · (1000 / π) · sin(π/4)
  EXPECT_NEAR(peak / trough, (250 + bump) / (250 - bump), 0.05 * (250 + bump) / (250 - bump));
}

TEST(Generators, PopulationIsZipfAcrossItsFunctions) {
  auto sources = Parse(Json::array({{{"type", "population"}, {"functions", 50}, {"total_rps", 500}, {"zipf_s", 1.0},
                                     {"end_s", 200}}}));
  ASSERT_EQ(sources[0].functions.size(), 50u);
  EXPECT_EQ(sources[0].functions[0], "fn0000");
  std::vector<std::string> names;
  NameIndex index = IndexOf(sources, &names);
  Workload w(sources, 3, index);
  std::vector<double> counts(50, 0);
  for (const Arrival& a : Drain(w.stream())) ++counts[static_cast<size_t>(a.function)];
  double total = 0;
  for (double c : counts) total += c;
  EXPECT_NEAR(total / 200, 500, 500 * 0.05);
  // Rank 1 carries 1/H(50) = 22.2% of the load, rank 2 half of that.
  double h = 0;
  for (int k = 1; k <= 50; ++k) h += 1.0 / k;
  EXPECT_NEAR(counts[0] / total, 1 / h, 0.02);
  EXPECT_NEAR(counts[1] / counts[0], 0.5, 0.1);
}

TEST(Merged, InterleavesByTimeAndKeepsEveryArrival) {
  Json j = Json::array({
      {{"type", "poisson"}, {"function", "a"}, {"rate_rps", 50}, {"end_s", 20}},
      {{"type", "poisson"}, {"function", "b"}, {"rate_rps", 30}, {"end_s", 20}},
      {{"type", "stages"}, {"function", "a"}, {"rates_rps", {5, 5}}, {"stage_s", 10}},
  });
  auto sources = Parse(j);
  EXPECT_EQ(sources[0].rng_name, "arrivals/a");
  EXPECT_EQ(sources[2].rng_name, "arrivals/a#1");
  auto merged = Replay(j, 3);
  size_t separately = 0;
  for (size_t i = 0; i < j.size(); ++i) separately += Replay(Json::array({j[i]}), 3).size();
  EXPECT_EQ(merged.size(), separately);
  for (size_t i = 1; i < merged.size(); ++i) EXPECT_LE(merged[i - 1].time, merged[i].time);
}

TEST(CsvTrace, ReadsCrlfMissingNewlineBlankLinesAndExtraColumns) {
  std::string path = testing::WriteTempFile("t.csv", "time_s,function,tokens\r\n0.5,a,3\r\n\r\n0.5,b,1\r\n2.25,a,9");
  auto a = Replay(Json::array({{{"type", "csv"}, {"file", path}, {"start_s", 1}}}));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].time, SecondsToSim(1.5));
  EXPECT_EQ(a[1].function, 1);
  EXPECT_EQ(a[2].time, SecondsToSim(3.25));
}

std::string ErrorOf(const Json& sources) {
  try {
    Replay(sources);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CsvTrace, BadRowsStopWithFileAndLineOrAreSkippedAndCounted) {
  struct Bad {
    std::string text;
    std::string message;
  } cases[] = {
      {"time_s,function\n1,a\n0.5,a\n2,a\n", ":3: time goes back"},
      {"time_s,function\n1,a\nx,a\n2,a\n", ":3: column 'time_s': 'x' is not a number"},
      {"time_s,function\n1,a\n,a\n2,a\n", ":3: column 'time_s': '' is not a number"},
      {"time_s,function\n1,a\n1.5,\n2,a\n", ":3: empty function"},
      {"time_s,function\n1,a\n-1,a\n2,a\n", ":3: time_s must be >= 0"},
      {"time_s,function\n1,a\n1.5\n2,a\n", ":3: expected at least 2 fields, got 1"},
  };
  for (const Bad& b : cases) {
    std::string path = testing::WriteTempFile("bad.csv", b.text);
    std::string e = ErrorOf(Json::array({{{"type", "csv"}, {"file", path}}}));
    EXPECT_NE(e.find(path + b.message), std::string::npos) << "got: " << e << "\nwanted: " << b.message;
    Workload* w = nullptr;
    auto kept = Replay(Json::array({{{"type", "csv"}, {"file", path}, {"skip_bad_rows", true}}}), 1, &w);
    EXPECT_EQ(kept.size(), 2u) << b.text;
    EXPECT_EQ(w->skipped_rows(), 1) << b.text;
  }
  std::string header = testing::WriteTempFile("h.csv", "time_s\n1\n");
  EXPECT_NE(ErrorOf(Json::array({{{"type", "csv"}, {"file", header}}})).find(header + ":1: header must name"),
            std::string::npos);
}

TEST(Transforms, FilterTopWindowScaleAndOffset) {
  std::string path = testing::WriteTempFile(
      "t.csv", "time_s,function\n0,a\n1,b\n2,a\n3,c\n4,a\n5,b\n6,a\n7,c\n8,a\n9,b\n");
  auto times = [](const std::vector<Arrival>& a) {
    std::vector<double> t;
    for (auto& x : a) t.push_back(SimToSeconds(x.time));
    return t;
  };
  // a: 5, b: 3, c: 2. Top 2 keeps a and b.
  auto top = Parse(Json::array({{{"type", "csv"}, {"file", path}, {"top_functions", 2}}}));
  EXPECT_EQ(top[0].functions, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(top[0].function_counts, (std::vector<double>{5, 3}));
  Workload* w = nullptr;
  EXPECT_EQ(Replay(Json::array({{{"type", "csv"}, {"file", path}, {"top_functions", 2}}}), 1, &w).size(), 8u);
  EXPECT_EQ(w->filtered_rows(), 2);
  // Window [2, 7) re-based to 0, replayed twice as fast, starting at 100 s.
  auto windowed = Replay(Json::array({{{"type", "csv"}, {"file", path}, {"window_s", {2, 7}}, {"time_scale", 2},
                                       {"start_s", 100}}}));
  EXPECT_EQ(times(windowed), (std::vector<double>{100, 100.5, 101, 101.5, 102}));
  // Only c.
  EXPECT_EQ(Replay(Json::array({{{"type", "csv"}, {"file", path}, {"functions", {"c"}}}})).size(), 2u);
  EXPECT_NE(ErrorOf(Json::array({{{"type", "csv"}, {"file", path}, {"functions", {"zz"}}}})).find("'zz' does not occur"),
            std::string::npos);
}

TEST(Transforms, RateScaleThinsAndSuperposes) {
  std::string path = testing::WriteTempFile("many.csv", [] {
    std::string s = "time_s,function\n";
    for (int i = 0; i < 20000; ++i) s += std::to_string(i * 0.01) + ",a\n";
    return s;
  }());
  const double n = 20000;
  auto half = Replay(Json::array({{{"type", "csv"}, {"file", path}, {"rate_scale", 0.5}}}));
  EXPECT_NEAR(static_cast<double>(half.size()), n / 2, 5 * std::sqrt(n * 0.25));
  auto more = Replay(Json::array({{{"type", "csv"}, {"file", path}, {"rate_scale", 2.5}, {"copy_shift_s", 0.003}}}));
  EXPECT_NEAR(static_cast<double>(more.size()), 2.5 * n, 5 * std::sqrt(n * 0.25));
  for (size_t i = 1; i < more.size(); ++i) ASSERT_LE(more[i - 1].time, more[i].time);
}

TEST(WorkloadSpec, RejectsBadSources) {
  struct Bad {
    Json source;
    std::string message;
  } cases[] = {
      {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 0}, {"end_s", 5}}, "/workload/0/rate_rps: must be > 0"},
      {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", -3}, {"end_s", 5}}, "/workload/0/rate_rps: must be > 0"},
      {{{"type", "gamma"}, {"function", "a"}, {"rate_rps", 3}, {"cv", 0}, {"end_s", 5}}, "/workload/0/cv: must be in [0.01, 100.0]"},
      {{{"type", "mmpp"}, {"function", "a"}, {"rates_rps", {1}}, {"mean_sojourn_s", {1, 1}}, {"end_s", 5}},
       "/workload/0/rates_rps: expected an array of 2 numbers"},
      {{{"type", "diurnal"}, {"function", "a"}, {"mean_rps", 3}, {"amplitude", 2}, {"end_s", 5}},
       "/workload/0/amplitude: must be in [0, 1]"},
      {{{"type", "stages"}, {"function", "a"}, {"rates_rps", {1, -2}}, {"stage_s", 5}}, "/workload/0/rates_rps/1: expected a number >= 0"},
      {{{"type", "stages"}, {"function", "a"}, {"rates_rps", {1}}}, "/workload/0/stage_s: missing"},
      {{{"type", "zipf"}}, "/workload/0/type: unknown workload type 'zipf'"},
      {{{"type", "csv"}, {"file", "nope.csv"}}, "/workload/0/file: no such file"},
      {{{"type", "poisson"}, {"function", "a"}, {"rate_rps", 1}, {"end_s", 5}, {"rte", 3}}, "/workload/0/rte: unknown key"},
      {{{"type", "azure-llm"}, {"file", "../tests/fixtures/traces/azure-llm-2023/AzureLLMInferenceTrace_code.csv"}},
       "/workload/0/function: missing required key"},
  };
  for (const Bad& b : cases) {
    try {
      Parse(Json::array({b.source}));
      ADD_FAILURE() << "no error for " << b.source.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("w.json: " + b.message), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace gpuslice
