// Sweep: a study over a grid of scenario parameters × policy runs × seeds, as one resumable
// set of runs with per-point means and 95% confidence intervals (docs/sweeps.md).
//
// A spec (JSON) names a scenario, its policy runs, the seeds and a grid of `--set` paths (the
// scenario's `load_scale` among them), each with a list of values. Every (point, policy run,
// seed) is a SweepRun whose key is a hash of its fully resolved scenario (Scenario::ToJson
// with that run's config and seed): the key names where its result is stored, so running a
// spec again skips what is stored, and a changed value can never overwrite another's
// result. Grid points that resolve to the same scenario share one stored result.
//
// The stored result of a run is DIR/runs/<key>.json: its resolved scenario and its summary
// (sim/summary_json.h), written atomically. A stored file whose scenario differs from the
// run's is refused (a key collision, or a file edited by hand).
#ifndef GPUSLICE_SIM_SWEEP_H_
#define GPUSLICE_SIM_SWEEP_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/simulation.h"

namespace gpuslice {

struct SweepParameter {
  std::string path;  // a `--set` path, e.g. "load_scale" or "models.resnet50.slo_ms"
  std::vector<nlohmann::ordered_json> values;
};

struct SweepSpec {
  std::string file;           // the spec file, for errors
  std::string scenario_path;  // absolute
  std::string policies;       // comma-separated run names; "" = every run of the scenario
  std::vector<uint64_t> seeds;
  std::vector<std::pair<std::string, nlohmann::ordered_json>> fixed;  // "set": applied to every point
  std::vector<SweepParameter> grid;                                   // in the spec's order
  nlohmann::ordered_json json;                                        // the spec as given
};

// Reads and validates a spec. Keys: "scenario" (path relative to the spec), "policies" (a
// list of run names, default all), "seeds" (a count N: the scenario's seed and the N-1 after
// it; or a list; default 1), "set" (an object of path: value applied to every point), "grid"
// (an object of path: non-empty list of values). Throws InputError naming the JSON path.
SweepSpec LoadSweepSpec(const std::string& path);

// One (point, policy run, seed) of a sweep.
struct SweepRun {
  size_t point = 0;                           // index of the grid point
  std::vector<nlohmann::ordered_json> values; // the point's value of each grid parameter
  std::string policy;                         // the policy run's name
  uint64_t seed = 0;
  std::string key;                            // 16 hex digits
  nlohmann::ordered_json scenario;            // resolved: this run's config only, this seed
};

// Expands the grid (the last parameter varies fastest), then policy runs, then seeds, and
// resolves every run. Loading a point's scenario checks it: an error names the point.
// Throws InputError.
std::vector<SweepRun> PlanSweep(const SweepSpec& spec);

// The runs' distinct keys, in plan order.
std::vector<std::string> DistinctKeys(const std::vector<SweepRun>& runs);

// Runs one sweep run on the simulator. Throws as RunSimulation.
RunResult ExecuteSweepRun(const SweepRun& run, const std::string& spec_file, const RunOptions& options = {});

// DIR/runs/<key>.json.
std::string StoredRunPath(const std::string& dir, const std::string& key);
// Writes a finished run's record atomically.
void StoreRun(const std::string& dir, const SweepRun& run, const RunResult& result);
// The stored summary of `run`, or nothing when none is stored. Throws InputError when the
// stored file is unreadable or belongs to another scenario.
std::optional<nlohmann::ordered_json> LoadStoredRun(const std::string& dir, const SweepRun& run);

// The metrics of a run's overall summary that the tables report, in order (docs/sweeps.md).
const std::vector<std::string>& SweepMetrics();
// Their values from a RunSummaryJson document.
std::vector<double> SweepMetricValues(const nlohmann::ordered_json& summary);

// The tables of a sweep: one row per run (`runs`) and one per (point, policy run) with
// each metric's mean and Student-t 95% interval over the seeds (`summary`).
struct SweepTables {
  std::vector<std::string> parameters;  // grid paths
  std::vector<std::string> metrics;
  struct RunRow {
    std::vector<nlohmann::ordered_json> values;
    std::string policy;
    uint64_t seed;
    std::string key;
    std::vector<double> metrics;
  };
  struct SummaryRow {
    std::vector<nlohmann::ordered_json> values;
    std::string policy;
    int seeds;
    std::vector<double> mean, ci95_low, ci95_high;
  };
  std::vector<RunRow> runs;
  std::vector<SummaryRow> summary;
};

// REQUIRES: `summaries` holds a summary for every run's key.
SweepTables BuildSweepTables(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                             const std::map<std::string, nlohmann::ordered_json>& summaries);

// The tables as CSV (docs/sweeps.md): a column per parameter, then policy, seed, key and the
// metrics; and a column per parameter, policy, seeds and <metric>_{mean,ci95_low,ci95_high}.
std::string RunsCsv(const SweepTables& tables);
std::string SummaryCsv(const SweepTables& tables);

// A parameter value as a CSV cell and column value: a string as itself, else its JSON.
std::string ParameterText(const nlohmann::ordered_json& value);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_SWEEP_H_
