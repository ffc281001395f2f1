#include "tests/test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace gpuslice::testing {

std::string SourceDir() { return GPUSLICE_SOURCE_DIR; }

std::string TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "gpuslice";
  auto dir = std::filesystem::temp_directory_path() / ("gpuslice-test-" + std::to_string(::getpid())) / name;
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const std::string path = TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

nlohmann::ordered_json FixedServersScenario(int servers, double service_ms, double rate_rps, double duration_s,
                                    const std::string& noise) {
  return {
      {"name", "fixed-servers"},
      {"seed", 11},
      {"cluster", {{"nodes", {{{"count", servers}, {"gpu", "V100-16GB"}}}}}},
      {"models", {{"m", {{"latency_ms", service_ms}, {"slo_ms", 1e9}, {"memory_mb", 1000},
                         {"max_batch", 1}, {"queue_timeout_s", 1e9}}}}},
      {"workload", {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", rate_rps}, {"end_s", duration_s}}}},
      {"executor", {{"noise", {{"kind", noise}}}}},
      {"output", {{"interval_s", 1000.0}, {"per_model_timeseries", false}}},
      {"policies", {{"fixed", {{"policy", "whole-gpu"}, {"autoscaling", false}, {"warm_start", true},
                               {"initial_replicas", servers}, {"container_concurrency", 1}}}}},
  };
}

Scenario ParseInline(const nlohmann::ordered_json& j) { return ParseScenario(j, "inline.json", SourceDir()); }

RunResult RunInline(const nlohmann::ordered_json& j, const std::string& policy_run) {
  Scenario s = ParseInline(j);
  std::vector<PolicyRunSpec> runs = SelectPolicyRuns(s, policy_run);
  return RunSimulation(s, runs.front());
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result{-1, ""};
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace gpuslice::testing
