// The command line's contract on bad input: one line naming the file and the JSON path,
// exit code 2, and no output file.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;

struct BadInput {
  const char* name;
  std::function<void(nlohmann::ordered_json&)> edit;
  std::string extra_args;
  std::string message;  // expected after "<file>: "
};

nlohmann::ordered_json Valid() {
  nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 5, 10, "none");
  j["models"]["m"]["profile"] = testing::SourceDir() + "/gpu/profiles/v100/resnet50.csv";
  j["models"]["m"].erase("latency_ms");
  return j;
}

void ExpectCleanFailure(const std::string& args, const std::string& expected, const std::string& dir) {
  const std::string out = dir + "/out.h5";
  auto r = testing::RunCommand(std::string(GPUSLICE_BINARY) + " run " + args + " -o " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("gpuslice: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << "wanted: " << expected << "\ngot: " << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().extension() == ".h5" || entry.path().string().find(".h5.tmp") != std::string::npos, false)
        << "left behind: " << entry.path();
  }
}

TEST(Cli, BadScenariosFailCleanly) {
  std::vector<BadInput> cases = {
      {"unknown_policy", [](auto& j) { j["policies"]["fixed"]["policy"] = "magic"; }, "",
       "/policies/fixed/policy: unknown policy 'magic'"},
      {"negative_rate", [](auto& j) { j["workload"][0]["rate_rps"] = -2; }, "", "/workload/0/rate_rps: must be > 0"},
      {"zero_rate", [](auto& j) { j["workload"][0]["rate_rps"] = 0; }, "", "/workload/0/rate_rps: must be > 0"},
      {"zero_slo", [](auto& j) { j["models"]["m"]["slo_ms"] = 0; }, "", "/models/m/slo_ms: must be > 0"},
      {"negative_slo", [](auto& j) { j["models"]["m"]["slo_ms"] = -1; }, "", "/models/m/slo_ms: must be > 0"},
      {"model_too_big", [](auto& j) { j["models"]["m"]["memory_mb"] = 20000; }, "",
       "/models/m/memory_mb: model needs 20000 MB, more than any GPU"},
      {"unknown_gpu", [](auto& j) { j["cluster"]["nodes"][0]["gpu"] = "RTX-9090"; }, "",
       "/cluster/nodes/0/gpu: unknown GPU type 'RTX-9090'"},
      {"unknown_policy_flag", [](auto&) {}, "--policy nope", "unknown policy 'nope'"},
      {"bad_set", [](auto&) {}, "--set models.m.slo_ms=-4", "/models/m/slo_ms: must be > 0"},
  };
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dir = testing::TempDir() + "/" + c.name;
    fs::create_directories(dir);
    nlohmann::ordered_json j = Valid();
    c.edit(j);
    const std::string path = dir + "/scenario.json";
    std::ofstream(path) << j.dump(2);
    ExpectCleanFailure(path + " " + c.extra_args, c.extra_args.rfind("--policy", 0) == 0 ? c.message : path + ": " + c.message, dir);
  }
}

TEST(Cli, MissingAndMalformedFilesFailCleanly) {
  const std::string dir = testing::TempDir();
  ExpectCleanFailure(dir + "/nope.json", dir + "/nope.json: cannot open file", dir);
  const std::string bad = dir + "/bad.json";
  std::ofstream(bad) << "{\n  \"name\": \"x\"\n  \"seed\": 1\n}\n";
  ExpectCleanFailure(bad, bad + ":3:8: malformed JSON", dir);
}

TEST(Cli, InterruptedRunLeavesNoResultFile) {
  const std::string dir = testing::TempDir();
  nlohmann::ordered_json j = testing::FixedServersScenario(4, 1, 3000, 1e5, "none");
  const std::string path = dir + "/long.json";
  std::ofstream(path) << j.dump();
  auto r = testing::RunCommand("timeout --preserve-status -s INT 1 " + std::string(GPUSLICE_BINARY) + " run " + path + " -o " + dir +
                               "/out.h5");
  EXPECT_EQ(r.exit_code, 130) << r.output;
  EXPECT_NE(r.output.find("interrupted"), std::string::npos);
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename().string().find("out.h5"), std::string::npos) << entry.path();
  }
}

TEST(Cli, ValidatePrintsTheResolvedScenario) {
  auto r = testing::RunCommand(std::string(GPUSLICE_BINARY) + " validate " + testing::SourceDir() +
                               "/scenarios/quickstart.json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("valid: 2 models"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"queue_timeout_s\""), std::string::npos);
}

TEST(Cli, HelpShowsExamples) {
  auto r = testing::RunCommand(std::string(GPUSLICE_BINARY) + " run --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("Examples:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gpuslice

namespace gpuslice {
namespace {

// Without a GPU (CI), calibrate says so on one line and exits 69, leaving nothing; with one,
// a tiny plan writes the whole output folder.
TEST(CliCalibrate, NoGpuIsOneLineAndADistinctExitCodeOrAGpuRunCompletes) {
  const std::string dir = ::testing::TempDir() + "/calibrate_cli";
  fs::remove_all(dir);
  for (const std::string& binary : {std::string(GPUSLICE_BINARY) + " calibrate", std::string(GPUSLICE_CALIBRATE_BINARY)}) {
    fs::remove_all(dir);
    auto r = testing::RunCommand(binary + " --models mobilenet_v3_large --batches 1 --quotas 50,100 --repetitions 2 "
                                          "--warmup 1 --no-pairs -o " + dir);
    if (r.exit_code == 69) {
      EXPECT_NE(r.output.find("no GPU: "), std::string::npos) << r.output;
      EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
      EXPECT_FALSE(fs::exists(dir)) << binary;
      EXPECT_FALSE(fs::exists(dir + ".partial")) << binary;
    } else {
      ASSERT_EQ(r.exit_code, 0) << r.output;
      EXPECT_TRUE(fs::exists(dir + "/profiles/mobilenet_v3_large.csv")) << r.output;
      EXPECT_TRUE(fs::exists(dir + "/metadata.json")) << r.output;
    }
  }
}

TEST(CliCalibrate, BadPlansAreInputErrorsBeforeAnyGpuWork) {
  const std::string dir = ::testing::TempDir() + "/calibrate_bad";
  fs::remove_all(dir);
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--models resnet51", "--models: no model 'resnet51'"},
      {"--batches 0", "--batches: '0' is not an integer in [1, 4096]"},
      {"--quotas 50,150", "--quotas: '150' is not a number in (0, 100]"},
      {"--quotas 50", "--quotas: must include 1"},
      {"--zoo /nonexistent", "/nonexistent: no such zoo folder"},
  };
  for (const Case& c : cases) {
    auto r = testing::RunCommand(std::string(GPUSLICE_BINARY) + " calibrate " + c.args + " -o " + dir);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << ": " << r.output;
    EXPECT_FALSE(fs::exists(dir));
  }
  auto plan = testing::RunCommand(std::string(GPUSLICE_BINARY) + " calibrate --plan --models vgg16");
  EXPECT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("vgg16: 21 launch units, 138.36 M parameters, 15.470 G"), std::string::npos) << plan.output;
}

}  // namespace
}  // namespace gpuslice
