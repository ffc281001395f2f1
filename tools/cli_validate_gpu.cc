#include "tools/cli_run.h"

#include <cstdio>
#include <iostream>

#include "gpu/calibrate/device.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/util/error.h"
#include "tools/cli_backend.h"
#include "tools/cli_util.h"

// `validate-gpu`, apart from `run` so that the standalone gpuslice-gpu (no HDF5) has it.
namespace gpuslice {

void AddValidateGpuOptions(CLI::App* app, ValidateGpuCommand* cmd) {
  app->add_option("scenario", cmd->scenario_path, "Scenario JSON file (one GPU; zoo models)")->required();
  app->add_option("-p,--policy", cmd->policy, "Policy run (default: the scenario's first)");
  app->add_option("--seed", cmd->seed, "Override the scenario's seed")->check(SeedCheck());
  app->add_option("--set", cmd->sets, "Override a scenario value: json.path=value (repeatable)");
  app->add_option("--json", cmd->json, "Also write the comparison as JSON to this file")->check(OutputPath());
  AddBackendOptions(app, &cmd->backend);
}

namespace {

struct GapRow {
  const char* metric;
  double simulated, measured;
};

}  // namespace

int ExecuteValidateGpu(const ValidateGpuCommand& cmd, const std::atomic<bool>& interrupted) {
  return GuardedCommand([&] {
    std::vector<std::string> sets = cmd.sets;
    if (cmd.seed >= 0) sets.push_back("seed=" + std::to_string(cmd.seed));
    if (!cmd.json.empty()) CheckOutputPath(cmd.json, false, "--json", /*force_option=*/false);
    const Scenario scenario = LoadScenario(cmd.scenario_path, sets);
    PrintWarnings(scenario);
    std::vector<PolicyRunSpec> runs = SelectPolicyRuns(scenario, cmd.policy);
    const PolicyRunSpec run = runs.front();
    std::unique_ptr<GpuBackend> backend = GpuBackend::Open(cmd.backend, scenario);
    if (!backend) throw InputError("--backend: validate-gpu compares the simulator with cuda or simulated-device");
    std::cerr << "simulating " << run.run_name << " (" << run.policy << ") on " << scenario.name << " ...\n";
    RunOptions sim_options;
    sim_options.interrupted = &interrupted;
    const RunResult sim = RunSimulation(scenario, run, sim_options);
    std::cerr << "executing it on " << backend->device_name() << " in real time (" << sim.simulated_s
              << " s simulated) ...\n";
    RunOptions gpu_options;
    gpu_options.interrupted = &interrupted;
    backend->PrepareRun(&gpu_options);
    const RunResult gpu = RunSimulation(scenario, run, gpu_options);
    const bool ok = backend->FinishRun(std::cerr);
    const std::vector<GapRow> rows = {
        {"latency p50 (ms)", sim.overall.latency_p50_ms, gpu.overall.latency_p50_ms},
        {"latency p90 (ms)", sim.overall.latency_p90_ms, gpu.overall.latency_p90_ms},
        {"latency p99 (ms)", sim.overall.latency_p99_ms, gpu.overall.latency_p99_ms},
        {"throughput (rps)", sim.overall.throughput_rps, gpu.overall.throughput_rps},
        {"violations (%)", 100 * sim.overall.violation_rate, 100 * gpu.overall.violation_rate},
        {"requests", static_cast<double>(sim.overall.arrived), static_cast<double>(gpu.overall.arrived)}};
    std::cout << "scenario " << scenario.name << ", policy run " << run.run_name << ", seed " << scenario.seed
              << "; simulator vs " << backend->device_name() << "\n";
    std::printf("%-18s %12s %12s %10s\n", "metric", "simulator", "gpu", "gap");
    nlohmann::ordered_json j = {{"scenario", scenario.name}, {"policy_run", run.run_name},
                                {"seed", scenario.seed},    {"device", backend->device_name()},
                                {"backend", cmd.backend.name}, {"metrics", nlohmann::ordered_json::object()}};
    for (const GapRow& r : rows) {
      // Violations: a gap in points; the rest relative to the measured value.
      const bool points = std::string(r.metric).rfind("violations", 0) == 0;
      const double gap = points ? r.simulated - r.measured
                                : (r.measured != 0 ? 100 * (r.simulated - r.measured) / r.measured : 0.0);
      std::printf("%-18s %12.3f %12.3f %9.1f%s\n", r.metric, r.simulated, r.measured, gap, points ? "pt" : "%");
      j["metrics"][r.metric] = {{"simulator", r.simulated}, {"gpu", r.measured},
                                {points ? "gap_points" : "gap_percent", gap}};
    }
    std::fflush(stdout);
    if (!cmd.json.empty()) WriteFileAtomically(cmd.json, j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    return ok ? 0 : 1;
  });
}

}  // namespace gpuslice
