// Scenario: everything a run needs, read from a JSON file, validated and fully resolved.
//
// Loading checks every field and raises InputError naming the file and JSON path of the
// first problem. Defaults are filled in, so ToJson() echoes exactly what ran; that echo is
// stored with every result. The format is documented in docs/scenarios.md.
#ifndef GPUSLICE_SIM_SCENARIO_H_
#define GPUSLICE_SIM_SCENARIO_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/interference.h"
#include "gpu/perf_model.h"
#include "gpu/specs.h"
#include "traces/workload.h"

namespace gpuslice {

struct ModelSpec {
  std::string name;
  std::string profile_path;     // empty when latency_ms or roofline is given
  double constant_latency_ms = 0;
  bool roofline = false;        // the latency is a roofline estimate (gpu/roofline.h)
  RooflineSpec roofline_spec;
  double slo_ms = 0;
  long memory_mb = 0;
  double load_time_s = 0;
  // Per-request time outside the GPU (docs/model.md "Time outside the GPU"):
  double network_ms = 0;        // outside the pod (client, ingress): latency only
  double preprocess_ms = 0;     // inside the pod before the GPU queue: holds a slot of the pod
  double postprocess_ms = 0;    // inside the pod after the batch: holds a slot of the pod
  double pod_cpu_cores = 0;     // CPU the pod's pre/post-processing shares; 0 = no limit
  bool overhead_alias = false;  // the scenario said overhead_ms (read as network_ms)
  int max_batch = 1;
  double batch_timeout_ms = 0;  // wait this long for a full batch; 0 = dispatch at once
  double queue_timeout_s = 0;   // a request still waiting this long after arrival is dropped
  double l2_util = 0;           // solo L2 and DRAM bandwidth utilisation on the whole GPU, [0, 1],
  double dram_util = 0;         // for the interference model (gpu-lets), when the scenario gives them
  // The interference load used by the executor, per batch size (index batch - 1; larger
  // batches take the last): the scenario's l2_util/dram_util when given, else estimated
  // as bytes moved per batch (the calibration zoo's layer list, or the roofline inputs)
  // over solo latency × the GPU's peak bandwidth. Empty: none known (no interference).
  std::vector<double> l2_util_by_batch, dram_util_by_batch;
  std::string interference_source;  // "scenario", "zoo estimate", "roofline estimate", "none"
  double noise_cv = 0;              // log-normal CV: the profile's measured spread, else the scenario's
  LatencyCurve curve;

  // In-pod time per request, and all of a request's time outside the GPU.
  double in_pod_ms() const { return preprocess_ms + postprocess_ms; }
  double outside_gpu_ms() const { return network_ms + in_pod_ms(); }
  // Requests per second one pod serves at most, given what its GPU work allows: its CPU
  // stage completes at most pod_cpu_cores × 1000 / in_pod_ms() per second.
  double PodRps(double gpu_rps) const {
    if (pod_cpu_cores <= 0 || in_pod_ms() <= 0) return gpu_rps;
    return std::min(gpu_rps, pod_cpu_cores * 1000.0 / in_pod_ms());
  }

  double L2Util(int batch) const { return UtilByBatch(l2_util_by_batch.data(), l2_util_by_batch.size(), batch); }
  double DramUtil(int batch) const { return UtilByBatch(dram_util_by_batch.data(), dram_util_by_batch.size(), batch); }

  // The entry of `batch` in a per-batch table of `count` entries (index batch - 1; larger
  // batches take the last), 0 for an empty table: L2Util and DramUtil, and the executor's
  // packed copies of those tables.
  static double UtilByBatch(const double* by_batch, size_t count, int batch) {
    if (count == 0) return 0;
    const size_t i = static_cast<size_t>(std::max(1, batch) - 1);
    return by_batch[std::min(i, count - 1)];
  }
};

struct NodeGroup {
  int count = 1;
  int gpus_per_node = 1;
  const GpuSpec* gpu = nullptr;
  double price_per_hour = 0;
};

enum class NoiseKind { kNone, kLogNormal, kExponential };

struct PolicyRunSpec {
  std::string run_name;     // the key in "policies", or the policy's own name
  std::string policy;       // registered policy name
  nlohmann::ordered_json config;    // the policy's own keys, validated by the policy
};

// Limits of a scenario, refused with these numbers in the message. The cluster's GPUs are
// kept in memory with their slices and indexes (the 2,000-GPU scale scenario is 50x below).
inline constexpr long long kMaxClusterGpus = 100'000;
inline constexpr double kMaxLoadScale = 1e6;
inline constexpr double kMaxStageMs = 1e7;

struct Scenario {
  std::string file;
  std::string dir;
  std::string name;
  uint64_t seed = 1;
  std::vector<ModelSpec> models;
  std::vector<std::string> function_names;
  std::vector<int32_t> function_model;  // function index -> model index
  NameIndex function_index;
  nlohmann::ordered_json explicit_functions;  // the scenario's "functions", as given
  nlohmann::ordered_json function_mapping;    // resolved "function_mapping" 
  std::vector<NodeGroup> node_groups;
  double container_start_s = 0;
  double token_window_ms = 40;
  // gpu-lets' linear interference model: alpha = c0·L2_self + c1·L2_other + c2·DRAM_self +
  // c3·DRAM_other + c4, utilisations scaled by SM fraction; latency × max(1, alpha).
  bool interference = true;
  std::array<double, 5> interference_coefficients = kGpuletInterferenceCoefficients;
  std::vector<WorkloadSource> workload;
  // Multiplies every source's rate (the scenario's "load_scale", default 1); `workload` is
  // already scaled, its echo (WorkloadSource::resolved) is not.
  double load_scale = 1;
  double duration_s = 0;  // 0: until the workload ends
  double drain_s = 0;     // after the last arrival, at most this long to finish
  NoiseKind noise = NoiseKind::kNone;
  double noise_cv = 0;
  double interval_s = 1;
  bool per_request = false;
  bool per_model_timeseries = true;
  // output.refusals: "log" (each refused placement is an action) or "count" (refused
  // placements are counted per model in the summary, not written; see docs/hdf5.md).
  bool log_refusals = true;
  std::vector<PolicyRunSpec> policies;
  // Options that have no effect on this scenario's models, as "JSON path: why"; the
  // command line prints them as warnings.
  std::vector<std::string> warnings;

  int model_index(const std::string& model) const;
  int total_gpus() const;
  // The resolved scenario, loadable as a scenario again (same runs, same results): with only
  // `run`'s config when given, else every policy run's; policy configs carry their defaults.
  nlohmann::ordered_json ToJson(const PolicyRunSpec* run = nullptr) const;
};

// Multiplies every workload source's rate by `factor`: generator rates are multiplied, trace
// sources get it in their rate_scale (thinning below 1, superposed shifted copies above).
// The sources' echo is unchanged. REQUIRES: factor > 0.
void ScaleWorkload(Scenario* scenario, double factor);

// Reads and validates a scenario file, after applying `--set` overrides to its JSON; with
// `skip_bad_rows`, every trace source skips and counts malformed rows instead of stopping.
// Throws InputError.
Scenario LoadScenario(const std::string& path, const std::vector<std::string>& overrides = {},
                      bool skip_bad_rows = false);

// Like LoadScenario, from JSON already in memory; `file` names it in errors and `dir`
// resolves its relative paths.
Scenario ParseScenario(const nlohmann::ordered_json& root, const std::string& file, const std::string& dir);

// The policy runs named by `selection` (comma-separated run names or registered policy
// names; empty = every run in the scenario). Throws InputError for an unknown name.
std::vector<PolicyRunSpec> SelectPolicyRuns(const Scenario& scenario, const std::string& selection);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_SCENARIO_H_
