#include "tools/cli_run.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "gpu/calibrate/device.h"
#include "sim/output_writer.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/summary_json.h"
#include "sim/util/error.h"
#include "tools/cli_util.h"
#include "tools/table.h"

namespace gpuslice {
namespace {

std::vector<std::string> Overrides(const RunCommand& cmd) {
  std::vector<std::string> sets = cmd.sets;
  if (cmd.seed >= 0) sets.push_back("seed=" + std::to_string(cmd.seed));
  if (cmd.per_request) sets.push_back("output.per_request=true");
  return sets;
}

}  // namespace

int ExecuteRun(const RunCommand& cmd, const std::atomic<bool>& interrupted) {
  return GuardedCommand([&] {
    const Scenario scenario = LoadScenario(cmd.scenario_path, Overrides(cmd), cmd.skip_bad_rows);
    PrintWarnings(scenario);
    std::vector<PolicyRunSpec> runs = SelectPolicyRuns(scenario, cmd.policies);
    if (!cmd.compare && runs.size() > 1) {
      if (cmd.policies.empty()) {
        runs.resize(1);  // `run` without --policy: the scenario's first policy run
      } else {
        throw InputError("gpuslice run takes one policy; use gpuslice compare for several");
      }
    }
    std::string output = cmd.output;
    if (output.empty()) {
      output = "results/" + scenario.name + "-" + (cmd.compare ? std::string("compare") : runs.front().run_name) + ".h5";
    }
    std::unique_ptr<ResultFile> file;
    if (!cmd.no_output) file = std::make_unique<ResultFile>(output, scenario.name, cmd.command_line);

    std::unique_ptr<GpuBackend> backend = GpuBackend::Open(cmd.backend, scenario);
    bool gpu_errors = false;
    std::vector<RunResult> results;
    for (const PolicyRunSpec& run : runs) {
      std::cerr << "running " << run.run_name << " (" << run.policy << ") on " << scenario.name
                << (backend ? " on " + backend->device_name() + " in real time" : std::string()) << " ...\n";
      RunOptions options;
      options.interrupted = &interrupted;
      if (file) options.request_sink = file->BeginRun(run.run_name, scenario);
      if (backend) backend->PrepareRun(&options);
      RunResult r = RunSimulation(scenario, run, options);
      if (backend) gpu_errors = !backend->FinishRun(std::cerr) || gpu_errors;
      if (file) file->EndRun(r, scenario);
      std::cerr << "  " << r.overall.arrived << " requests, " << r.events << " events in " << r.wall_s << " s ("
                << (r.wall_s > 0 ? static_cast<double>(r.overall.arrived) / r.wall_s : 0.0) << " requests/s)\n";
      if (r.skipped_rows > 0) {
        std::cerr << "  skipped " << r.skipped_rows << " bad trace rows (skip_bad_rows); see workload.skipped_rows\n";
      }
      results.push_back(std::move(r));
    }
    std::cout << "scenario " << scenario.name << ", seed " << scenario.seed << "\n";
    PrintComparison(std::cout, results);
    if (!cmd.summary_json.empty()) {
      WriteFileAtomically(cmd.summary_json, SummaryJson(scenario.name, results).dump(2) + "\n");
    }
    if (file) {
      file->Commit();
      std::cout << "wrote " << file->final_path() << "\n";
    }
    return gpu_errors ? 1 : 0;
  });
}

int ExecuteValidate(const std::string& scenario_path, const std::vector<std::string>& sets) {
  return GuardedCommand([&] {
    const Scenario scenario = LoadScenario(scenario_path, sets);
    PrintWarnings(scenario);
    std::cout << scenario_path << ": valid: " << scenario.models.size() << " models, "
              << scenario.function_names.size() << " functions, " << scenario.total_gpus() << " GPUs, "
              << scenario.workload.size() << " workload sources, " << scenario.policies.size() << " policy runs\n";
    std::cout << scenario.ToJson().dump(2) << "\n";
    return 0;
  });
}

}  // namespace gpuslice
