// Issue 16: numbers a scenario gives are checked against what the simulator can represent,
// and JSON text against what its parser lets through. Every expected value here is written
// from the input and the documented limit (docs/errors.md), not from a run of the program.
#include <string>

#include <gtest/gtest.h>

#include "sim/engine/time.h"
#include "sim/scenario.h"
#include "sim/util/error.h"
#include "sim/util/json_check.h"
#include "sim/util/json_reader.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

std::string ErrorOf(const Json& j) {
  try {
    testing::ParseInline(j);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string TextError(const std::string& text) {
  try {
    ParseJsonText(text, "t.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

Json Base() { return testing::FixedServersScenario(2, 10, 5, 10, "none"); }

TEST(JsonCheck, DuplicateKeysNameBothPositions) {
  // Line 3 column 3 repeats the key of line 2 column 3.
  EXPECT_EQ(TextError("{\n  \"a\": 1,\n  \"a\": 2\n}"), "t.json:3:3: duplicate key \"a\" (first at line 2, column 3)");
  // An escaped spelling of the same key is the same key.
  EXPECT_NE(TextError("{\"ab\": 1, \"a\\u0062\": 2}").find("duplicate key \"ab\""), std::string::npos);
  // The same key in two different objects is fine, and so are equal strings as values.
  EXPECT_EQ(TextError("{\"m\": {\"a\": 1}, \"n\": {\"a\": \"a\"}, \"l\": [\"a\", \"a\"]}"), "");
  // A duplicate model name is a duplicate key of /models.
  EXPECT_NE(TextError("{\"models\": {\"r\": {}, \"r\": {}}}").find("duplicate key \"r\""), std::string::npos);
}

TEST(JsonCheck, NestingIsBounded) {
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_EQ(TextError(ok), "");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  // The 65th bracket is at column 65 of line 1.
  EXPECT_EQ(TextError(deep), "t.json:1:65: nested deeper than 64 levels");
}

TEST(JsonCheck, NumbersBeyondADouble) {
  EXPECT_EQ(TextError("{\n\"x\": 1e999}"), "t.json:2:6: number 1e999 is out of range (a double holds at most 1.8e308)");
  EXPECT_NE(TextError("[-1e400]").find("number -1e400 is out of range"), std::string::npos);
  EXPECT_EQ(TextError("[1e308, 1e-400, 99999999999999999999]"), "");  // underflow to 0 and big integers parse
}

TEST(JsonCheck, SyntaxErrorsStillComeFromTheParser) {
  EXPECT_NE(TextError("{\"a\": }").find("t.json:1:7: malformed JSON"), std::string::npos);
  EXPECT_NE(TextError("{\"a\": \"unterminated").find("malformed JSON"), std::string::npos);
}

TEST(JsonCheck, FastParseKeepsOrderAndValues) {
  const std::string text = R"({"z": 1, "a": [true, null, -2, 3.5, "s", {"k": {}}], "m": {"y": 18446744073709551615}})";
  // The same document as nlohmann's own parser reads it, member order included.
  EXPECT_EQ(ParseOrderedJsonFast(text), Json::parse(text));
  EXPECT_EQ(ParseOrderedJsonFast(text).begin().key(), "z");
  EXPECT_THROW(ParseOrderedJsonFast("{\"a\": [1,}"), nlohmann::json::parse_error);
  // 200,000 members: each key once, in order (nlohmann's parser searched the object per key).
  std::string big = "{";
  for (int i = 0; i < 200000; ++i) big += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  big += "}";
  const Json parsed = ParseJsonText(big, "big.json");
  ASSERT_EQ(parsed.size(), 200000u);
  EXPECT_EQ(std::prev(parsed.end()).key(), "k199999");
  EXPECT_EQ(parsed["k123456"], 123456);
}

TEST(JsonCheck, SetValuesAndPaths) {
  Json root = Base();
  EXPECT_THROW(ApplyOverride(root, "models.m.slo_ms=1e999"), InputError);
  EXPECT_THROW(ApplyOverride(root, "models.m.slo_ms=" + std::string(200, '[') + std::string(200, ']')), InputError);
  std::string long_path = "a";
  for (int i = 0; i < 100; ++i) long_path += ".a";
  EXPECT_THROW(ApplyOverride(root, long_path + "=1"), InputError);
  ApplyOverride(root, "models.m.slo_ms=150");  // still fine
  EXPECT_EQ(root["models"]["m"]["slo_ms"], 150);
}

TEST(InputLimits, TimesBeyondWhatInt64NanosecondsHold) {
  struct Case {
    std::string path;
    Json value;
    std::string message;
  } cases[] = {
      // 1e10 s is past kMaxInputSeconds (1e9 s); 1e300 was the issue's example.
      {"/drain_s", 1e300, "/drain_s: must be at most 1000000000.0 s"},
      {"/duration_s", 1e10, "/duration_s: must be at most 1000000000.0 s"},
      {"/models/m/load_time_s", 1e300, "/models/m/load_time_s: must be at most"},
      {"/models/m/queue_timeout_s", 1e19, "/models/m/queue_timeout_s: must be at most"},
      {"/models/m/network_ms", 1e13, "/models/m/network_ms: must be at most 1000000000000.0 ms"},
      {"/models/m/latency_ms", 1e300, "/models/m/latency_ms: must be at most"},
      // Within simulated time but not a request's stage: 1e8 ms is past the 1e7 ms limit.
      {"/models/m/latency_ms", 1e8, "/models/m/latency_ms: must be at most 1e7 ms"},
      {"/models/m/preprocess_ms", 1e8, "/models/m/preprocess_ms: must be at most 1e7 ms"},
      {"/workload/0/start_s", 1e300, "/workload/0/start_s: must be at most"},
      {"/workload/0/end_s", 1e-12, "/workload/0/end_s: must be at least 1 ns"},
      {"/cluster/container_start_s", 1e300, "/cluster/container_start_s: must be at most"},
      {"/output/interval_s", 1e-12, "/output/interval_s: must be in [0.001, 1000000000.0]"},
      {"/output/interval_s", 1e-6, "/output/interval_s: must be in [0.001, 1000000000.0]"},
      {"/cluster/token_window_ms", 1e-3, "/cluster/token_window_ms: must be in [0.1, 10000000.0]"},
      {"/models/m/memory_mb", 1e19, "/models/m/memory_mb: must be at most 1000000000.0 MB"},
      {"/cluster/nodes/0/count", 1000000, "/cluster/nodes/0/count: the cluster would have 1000000 GPUs"},
      {"/executor/noise/cv", 1e300, "/executor/noise/cv: must be in [0.0, 10.0]"},
      {"/load_scale", 1e300, "/load_scale: must be at most 1000000"},
  };
  for (const Case& c : cases) {
    Json j = Base();
    if (c.path == "/executor/noise/cv") j["executor"]["noise"] = {{"kind", "lognormal"}};
    j[Json::json_pointer(c.path)] = c.value;
    const std::string e = ErrorOf(j);
    EXPECT_NE(e.find(c.message), std::string::npos) << c.path << " = " << c.value << "\n  got: " << e;
  }
}

TEST(InputLimits, PolicyPeriodsAtLeastAMillisecond) {
  for (const auto& [policy, key] : {std::pair<std::string, std::string>{"whole-gpu", "tick_s"},
                                    {"fast-gshare", "interval_s"},
                                    {"has-gpu", "interval_s"},
                                    {"gpulet", "epoch_s"}}) {
    Json j = Base();
    j["policies"] = {{"p", {{"policy", policy}, {key, 1e-12}}}};
    EXPECT_NE(ErrorOf(j).find("/policies/p/" + key + ": must be in [0.001,"), std::string::npos) << ErrorOf(j);
    j["policies"]["p"][key] = 1e-4;
    EXPECT_NE(ErrorOf(j).find("/policies/p/" + key + ": must be in [0.001,"), std::string::npos) << ErrorOf(j);
  }
}

TEST(InputLimits, GeneratorsAreBoundedBeforeTheyRun) {
  auto source = [](Json s) {
    Json j = Base();
    s["function"] = "m";
    j["workload"] = Json::array({s});
    return ErrorOf(j);
  };
  // 1e300 rps over 10 s: past the one-source limit of 1e7 rps.
  EXPECT_NE(source({{"type", "poisson"}, {"rate_rps", 1e300}, {"end_s", 10}}).find("/workload/0/rate_rps: must be at most"),
            std::string::npos);
  EXPECT_NE(source({{"type", "poisson"}, {"rate_rps", 5e7}, {"end_s", 10}}).find("one source may have at most 1e+07"),
            std::string::npos);
  // 1e7 rps for 1e4 s is 1e11 requests, past the 1e10 a run supports.
  EXPECT_NE(source({{"type", "poisson"}, {"rate_rps", 1e7}, {"end_s", 1e4}}).find("at most 1e+10 are supported"),
            std::string::npos);
  EXPECT_NE(source({{"type", "gamma"}, {"rate_rps", 5}, {"cv", 1e-300}, {"end_s", 10}}).find("/workload/0/cv: must be in [0.01, 100.0]"),
            std::string::npos);
  EXPECT_NE(source({{"type", "gamma"}, {"rate_rps", 5}, {"cv", 1e300}, {"end_s", 10}}).find("/workload/0/cv: must be in"),
            std::string::npos);
  EXPECT_NE(source({{"type", "mmpp"}, {"rates_rps", {1, 5}}, {"mean_sojourn_s", {1e-300, 1}}, {"end_s", 10}})
                .find("/workload/0/mean_sojourn_s: must be at least 0.001 s"),
            std::string::npos);
  Json population = Base();
  population["workload"] = Json::array({{{"type", "population"}, {"functions", 10'000'000}, {"total_rps", 10}, {"end_s", 10}}});
  population["function_mapping"] = {{"rule", "round_robin"}};
  EXPECT_NE(ErrorOf(population).find("/workload/0/functions: must be in [1, 1000000]"), std::string::npos);
  // Scaling the load re-checks: 5 rps x 1e6 = 5e6 is fine, x 2e6... the scale is capped at 1e6.
  Json scaled = Base();
  scaled["workload"][0]["rate_rps"] = 20;
  scaled["load_scale"] = 1e6;  // 2e7 rps from one source
  EXPECT_NE(ErrorOf(scaled).find("one source may have at most 1e+07 (after inline.json: /load_scale"), std::string::npos)
      << ErrorOf(scaled);
}

TEST(InputLimits, ConversionsSaturateInsteadOfOverflowing) {
  // 1e300 s in nanoseconds is past int64: the last defence saturates.
  EXPECT_EQ(SecondsToSim(1e300), kForever);
  EXPECT_EQ(SecondsToSim(-1e300), -kForever);
  EXPECT_EQ(MillisToSim(1.5), 1'500'000);
  EXPECT_EQ(SecondsToSim(kMaxInputSeconds), 1'000'000'000LL * 1'000'000'000LL);
}

}  // namespace
}  // namespace gpuslice
