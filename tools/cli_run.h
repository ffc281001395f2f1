// The `run`, `compare` and `validate` subcommands of the gpuslice command line.
#ifndef GPUSLICE_TOOLS_CLI_RUN_H_
#define GPUSLICE_TOOLS_CLI_RUN_H_

#include <atomic>
#include <string>
#include <vector>

namespace gpuslice {

struct RunCommand {
  std::string scenario_path;
  std::string policies;          // run: one name; compare: a comma-separated list; "" = default
  long long seed = -1;           // -1: the scenario's
  std::vector<std::string> sets; // --set json.path=value
  std::string output;            // HDF5 path; "" = results/<scenario>-<what>.h5
  bool no_output = false;
  bool per_request = false;
  bool skip_bad_rows = false;
  std::string summary_json;
  bool compare = false;
  std::string command_line;
};

// Exit codes: 0 success, 2 bad input, 3 internal error, 130 interrupted.
int ExecuteRun(const RunCommand& cmd, const std::atomic<bool>& interrupted);
int ExecuteValidate(const std::string& scenario_path, const std::vector<std::string>& sets);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_RUN_H_
