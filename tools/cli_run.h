// The `run`, `compare` and `validate` subcommands of the gpuslice command line.
#ifndef GPUSLICE_TOOLS_CLI_RUN_H_
#define GPUSLICE_TOOLS_CLI_RUN_H_

#include <atomic>
#include <string>
#include <vector>

#include "tools/cli_backend.h"
#include "tools/progress.h"

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
  double load_scale = 0;         // > 0: sets the scenario's load_scale
  int jobs = 0;                  // compare: runs in parallel; 0 = every core
  bool force = false;            // overwrite existing output files
  bool no_helper_threads = false;  // never RunOptions::helper_threads
  std::string format = "table";  // table, csv, markdown or json (tools/table.h)
  ProgressChoice progress;
  std::string command_line;
  BackendChoice backend;
};

struct RerunCommand {
  std::string result_path;
  bool no_helper_threads = false;  // never RunOptions::helper_threads
  std::string run;               // "" = the file's only run, or every run
  std::string output;            // "" = results/<scenario>-<run>-rerun.h5
  bool no_output = false;
  bool force = false;
  std::string command_line;
};

struct ValidateGpuCommand {
  std::string scenario_path;
  std::string policy;            // "" = the scenario's first policy run
  long long seed = -1;
  std::vector<std::string> sets;
  BackendChoice backend;         // cuda (default here) or simulated-device
  std::string json;              // also write the comparison as JSON here
};

// Exit codes: 0 success, 2 bad input, 3 internal error, 130 interrupted.
int ExecuteRun(const RunCommand& cmd, const std::atomic<bool>& interrupted);
int ExecuteValidate(const std::string& scenario_path, const std::vector<std::string>& sets);
// Runs a stored run again from the resolved scenario its HDF5 result holds, and compares the
// new summary with the stored one: exit 0 when identical byte for byte, 1 when not.
int ExecuteRerun(const RerunCommand& cmd, const std::atomic<bool>& interrupted);
// The options `run` and `compare` share, and the `rerun` subcommand.
void AddRunOptions(CLI::App* app, RunCommand* cmd);
CLI::App* AddRerunCommand(CLI::App& app, RerunCommand* cmd);
// Runs the scenario's policy on the simulator and on the GPU backend and prints p50/p90/p99,
// throughput and violations side by side with the gaps. Exit codes as ExecuteRun, and 69 no
// usable GPU, 1 a GPU error during the run.
int ExecuteValidateGpu(const ValidateGpuCommand& cmd, const std::atomic<bool>& interrupted);
void AddValidateGpuOptions(CLI::App* app, ValidateGpuCommand* cmd);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_RUN_H_
