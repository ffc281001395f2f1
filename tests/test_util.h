// Helpers shared by the tests: scenario JSON builders, temporary files, running the CLI.
#ifndef GPUSLICE_TESTS_TEST_UTIL_H_
#define GPUSLICE_TESTS_TEST_UTIL_H_

#include <string>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/simulation.h"

namespace gpuslice::testing {

std::string SourceDir();
std::string TempDir();  // a fresh folder for this test
std::string WriteTempFile(const std::string& name, const std::string& contents);

// A scenario of one model with a constant service time, served by `servers` warm whole-GPU
// instances with no autoscaling, under Poisson arrivals: the queueing-theory setting.
nlohmann::ordered_json FixedServersScenario(int servers, double service_ms, double rate_rps, double duration_s,
                                    const std::string& noise);

Scenario ParseInline(const nlohmann::ordered_json& j);
RunResult RunInline(const nlohmann::ordered_json& j, const std::string& policy_run = "");

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};
CommandResult RunCommand(const std::string& command);

}  // namespace gpuslice::testing

#endif  // GPUSLICE_TESTS_TEST_UTIL_H_
