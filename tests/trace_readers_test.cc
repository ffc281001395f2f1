// Unit tests of the trace readers' building blocks.
#include <algorithm>

#include <gtest/gtest.h>

#include "sim/scenario.h"
#include "sim/util/error.h"
#include "tests/test_util.h"
#include "traces/azure_functions_2019.h"
#include "traces/azure_functions_2021.h"
#include "traces/datetime.h"
#include "traces/external_sort.h"
#include "traces/llm_traces.h"

namespace gpuslice {
namespace {

TEST(DateTime, ParsesCalendarTimesWithFractions) {
  SimTime t;
  ASSERT_TRUE(ParseDateTime("1970-01-01 00:00:00", &t));
  EXPECT_EQ(t, 0);
  ASSERT_TRUE(ParseDateTime("2023-11-16 18:17:03.9799600", &t));
  // 2023-11-16 is day 19,677 since the epoch.
  EXPECT_EQ(t, (19677LL * 86400 + 18 * 3600 + 17 * 60 + 3) * kNsPerSecond + 979'960'000);
  ASSERT_TRUE(ParseDateTime("2024-02-29 23:59:59.5", &t));
  SimTime next;
  ASSERT_TRUE(ParseDateTime("2024-03-01 00:00:00", &next));
  EXPECT_EQ(next - t, 500'000'000);
  // The 2024 Azure LLM trace: 6 digits and a UTC offset, some rows without a fraction.
  SimTime a, b, c;
  ASSERT_TRUE(ParseDateTime("2024-05-10 00:00:00.009930+00:00", &a));
  ASSERT_TRUE(ParseDateTime("2024-05-10 00:00:01+00:00", &b));
  ASSERT_TRUE(ParseDateTime("2024-05-10T02:00:01+02:00", &c));
  EXPECT_EQ(b - a, 990'070'000);
  EXPECT_EQ(c, b);
  ASSERT_TRUE(ParseDateTime("2024-05-10 00:00:01Z", &c));
  EXPECT_EQ(c, b);
  for (const char* bad : {"2024-05-10 00:00:01+0000", "2024-05-10 00:00:01+25:00", "2024-05-10 00:00:01 ",
                          "2024-13-01 00:00:00", "2024-01-01", "2024-01-01 00:00:0x", "2024/01/01 00:00:00",
                          "2024-01-01 00:00:00.", "2024-01-01 00:00:00.12a"}) {
    EXPECT_FALSE(ParseDateTime(bad, &t)) << bad;
  }
}

TEST(DateTime, BeforeTheEpochAndPastSimTimesRangeFromIt) {
  SimTime t;
  // One day and half a second before 1970-01-01, by hand.
  ASSERT_TRUE(ParseDateTime("1969-12-30 23:59:59.5", &t));
  EXPECT_EQ(t, -(86400LL * kNsPerSecond + 500'000'000));
  // 1677-09-21 is about where 2^63 ns before 1970 falls; 1600 is before it.
  EXPECT_FALSE(ParseDateTime("1600-01-01 00:00:00", &t));
  CalendarTime c;
  ASSERT_TRUE(ParseCalendarTime("1600-01-01 00:00:00", &c));
  // python3 -c "import datetime as d; print(int((d.datetime(1600,1,1)-d.datetime(1970,1,1)).total_seconds()))"
  EXPECT_EQ(c.seconds, -11'676'096'000);
  EXPECT_EQ(c.nanos, 0);
  ASSERT_TRUE(ParseCalendarTime("0000-03-01 00:00:00.000000001", &c));
  EXPECT_EQ(c.nanos, 1);
}

TEST(ExternalSorter, MergesSpilledRunsStably) {
  ExternalSorter sorter(/*chunk_records=*/100);
  RngStream rng(2, "sort");
  std::vector<SortRecord> all;
  for (int64_t i = 0; i < 2500; ++i) {
    SortRecord r{static_cast<int64_t>(rng.Below(300)), i, static_cast<int32_t>(i % 7), 0};
    all.push_back(r);
    sorter.Add(r);
  }
  sorter.Finish();
  EXPECT_EQ(sorter.runs(), 25u);
  std::stable_sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.time < b.time; });
  SortRecord r;
  for (const SortRecord& want : all) {
    ASSERT_TRUE(sorter.Next(&r));
    ASSERT_EQ(r.time, want.time);
    ASSERT_EQ(r.seq, want.seq);
  }
  EXPECT_FALSE(sorter.Next(&r));
}

TEST(AzureFunctions2021, SortsByArrivalAcrossSpilledChunks) {
  // Arrival = end - duration; rows in the file are not in arrival order. Chunks of 2 rows
  // force the merge path.
  std::string path = testing::WriteTempFile("a.csv",
      "app,func,end_timestamp,duration\n"
      "x,f,10.0,1.0\n"    // 9.0
      "x,g,5.5,0.5\n"     // 5.0
      "y,f,7.0,0.0\n"     // 7.0
      "x,f,3.0,3.5\n"     // -0.5: the trace shifts by 0.5 s
      "y,f,9.5,0.5\n");   // 9.0, after the row above in file order
  AzureFunctions2021Trace t(path, false, 2);
  EXPECT_GE(t.sort_runs(), 2u);
  std::vector<std::pair<SimTime, std::string>> got;
  RawRecord r;
  while (t.Next(&r)) got.push_back({r.time / kNsPerMs, std::string(r.function)});
  std::vector<std::pair<SimTime, std::string>> want = {
      {0, "x/f"}, {5500, "x/g"}, {7500, "y/f"}, {9500, "x/f"}, {9500, "y/f"}};
  EXPECT_EQ(got, want);
}

TEST(AzureFunctions2019, JoinsDurationsAndMemory) {
  const std::string dir = testing::SourceDir() + "/tests/fixtures/traces/azure-functions-2019-sample/";
  AzureFunctions2019Trace t(dir + "invocations.csv", dir + "durations.csv", dir + "memory.csv", MinuteSpacing::kEven,
                            RngStream(1, "x"), false);
  ASSERT_EQ(t.functions().size(), 10u);
  const FunctionMetadata& first = t.functions()[0];
  EXPECT_EQ(first.name.substr(0, 8), "47658c9c");
  EXPECT_EQ(first.trigger, "http");
  EXPECT_DOUBLE_EQ(first.average_duration_ms, 306);  // durations.csv, row 1
  EXPECT_DOUBLE_EQ(first.average_memory_mb, 204);    // memory.csv, row 1
}

TEST(AzureFunctions2019, BadCountsNameTheirLineAndMinute) {
  std::string path = testing::WriteTempFile("inv.csv",
      "HashOwner,HashApp,HashFunction,Trigger,1,2,3\no,a,f,http,1,2,3\no,a,g,http,1,x,3\n");
  try {
    AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3: minute 2: 'x' is not a count"), std::string::npos) << e.what();
  }
  AzureFunctions2019Trace skipped(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), true);
  EXPECT_EQ(skipped.skipped_rows(), 1);
  EXPECT_EQ(skipped.functions().size(), 1u);
}

TEST(AzureFunctions2019, ARowWithFewerFieldsThanTheHeaderIsABadRow) {
  // Line 3 has 2 of the header's 6 fields; it must not be read with the fields of line 2.
  std::string path = testing::WriteTempFile("inv.csv",
      "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,4,5\no,a\no,a,g,http,1,0\n");
  try {
    AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3: expected 6 fields, got 2");
  }
  AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), true);
  EXPECT_EQ(t.skipped_rows(), 1);
  std::unordered_map<std::string, long long> counts;
  std::vector<std::string> order;
  t.CountFunctions(&counts, &order);
  EXPECT_EQ(order, (std::vector<std::string>{"f", "g"}));
  EXPECT_EQ(counts["f"], 9);  // 4 + 5
  EXPECT_EQ(counts["g"], 1);
}

TEST(AzureFunctions2019, MinuteSpacingRules) {
  std::string path = testing::WriteTempFile("inv.csv", "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,3,0\n");
  auto times = [&](MinuteSpacing s) {
    AzureFunctions2019Trace t(path, "", "", s, RngStream(1, "x"), false);
    std::vector<double> out;
    RawRecord r;
    while (t.Next(&r)) out.push_back(SimToSeconds(r.time));
    return out;
  };
  EXPECT_EQ(times(MinuteSpacing::kEven), (std::vector<double>{0, 20, 40}));
  auto uniform = times(MinuteSpacing::kUniform);
  ASSERT_EQ(uniform.size(), 3u);
  EXPECT_TRUE(std::is_sorted(uniform.begin(), uniform.end()));
  EXPECT_LT(uniform.back(), 60.0);
}

TEST(SpreadTrace, SpreadsEqualTimestampsWithoutPassingTheNextGroup) {
  std::string path = testing::WriteTempFile("m.jsonl",
      "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1}\n"
      "{\"timestamp\": 0, \"input_length\": 6, \"output_length\": 2}\n"
      "{\"timestamp\": 0, \"input_length\": 7, \"output_length\": 3}\n"
      "{\"timestamp\": 999, \"input_length\": 8, \"output_length\": 4}\n"
      "{\"timestamp\": 5000, \"input_length\": 9, \"output_length\": 5}\n");
  SpreadTrace t(std::make_unique<MooncakeTrace>(path, "m", false), kNsPerSecond, SpreadTrace::Mode::kEven,
                RngStream(1, "x"));
  std::vector<double> ms;
  std::vector<int> tokens;
  RawRecord r;
  while (t.Next(&r)) {
    ms.push_back(SimToMillis(r.time));
    tokens.push_back(r.input_tokens);
  }
  // The first group spreads over the 999 ms before the next group, not a whole second.
  EXPECT_EQ(ms, (std::vector<double>{0, 333, 666, 999, 5000}));
  EXPECT_EQ(tokens, (std::vector<int>{5, 6, 7, 8, 9}));
}

TEST(Mooncake, MalformedLinesAreBadRows) {
  std::string path = testing::WriteTempFile("m.jsonl", "{\"timestamp\": 0}\n{\"timestamp\": \n{\"timestamp\": -4}\n");
  MooncakeTrace t(path, "m", false);
  RawRecord r;
  ASSERT_TRUE(t.Next(&r));
  try {
    t.Next(&r);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2: malformed JSON line"), std::string::npos) << e.what();
  }
  MooncakeTrace skipping(path, "m", true);
  int n = 0;
  while (skipping.Next(&r)) ++n;
  EXPECT_EQ(n, 1);
  EXPECT_EQ(skipping.skipped_rows(), 2);
}

nlohmann::ordered_json TraceScenario(const nlohmann::ordered_json& mapping) {
  nlohmann::ordered_json j = {
      {"name", "mapping"},
      {"cluster", {{"nodes", {{{"count", 2}, {"gpu", "V100-16GB"}}}}}},
      {"models", {{"a", {{"latency_ms", 5}, {"slo_ms", 100}, {"memory_mb", 100}}},
                  {"b", {{"latency_ms", 5}, {"slo_ms", 100}, {"memory_mb", 100}}}}},
      {"workload", {{{"type", "csv"}, {"file", "t.csv"}}}},
      {"policies", {{"p", {{"policy", "whole-gpu"}}}}},
  };
  if (!mapping.is_null()) j["function_mapping"] = mapping;
  return j;
}

TEST(FunctionMapping, RulesAssignTraceFunctionsToModels) {
  const std::string dir = testing::TempDir();
  testing::WriteTempFile("t.csv", "time_s,function\n0,x\n1,y\n2,y\n3,z\n4,y\n5,z\n");
  auto model_of = [&](const nlohmann::ordered_json& mapping) {
    Scenario s = ParseScenario(TraceScenario(mapping), "s.json", dir);
    std::map<std::string, std::string> m;
    for (size_t f = 0; f < s.function_names.size(); ++f) {
      m[s.function_names[f]] = s.models[static_cast<size_t>(s.function_model[f])].name;
    }
    return m;
  };
  // Round robin in order of first appearance: x, y, z.
  auto rr = model_of({{"rule", "round_robin"}});
  EXPECT_EQ(rr["x"], "a");
  EXPECT_EQ(rr["y"], "b");
  EXPECT_EQ(rr["z"], "a");
  // Popularity: y (3), z (2), x (1).
  auto pop = model_of({{"rule", "popularity"}});
  EXPECT_EQ(pop["y"], "a");
  EXPECT_EQ(pop["z"], "b");
  EXPECT_EQ(pop["x"], "a");
  // A restricted model list.
  auto only_b = model_of({{"rule", "hash"}, {"models", {"b"}}});
  EXPECT_EQ(only_b["x"], "b");
  EXPECT_EQ(only_b["z"], "b");
  // Hash is stable: the same name maps the same way whatever else is in the trace.
  EXPECT_EQ(model_of({{"rule", "hash"}})["y"], model_of({{"rule", "hash"}})["y"]);
  // Explicit (the default): an unmapped trace function is an error naming the source.
  try {
    ParseScenario(TraceScenario(nullptr), "s.json", dir);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("s.json: /workload/0: function 'x' has no model"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gpuslice
