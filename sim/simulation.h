// Simulation: one run of one policy on one scenario, from the first arrival until every
// request has ended (or the drain limit passes), and what it measured.
//
// A run is a pure function of (scenario, policy run, seed): the same inputs give the same
// result, byte for byte in the summary. At its end it checks conservation (arrived =
// completed + dropped + in flight), the cluster's invariants and Little's law, and throws
// std::logic_error if any fails, since that is a bug in the simulator.
#ifndef GPUSLICE_SIM_SIMULATION_H_
#define GPUSLICE_SIM_SIMULATION_H_

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/actions.h"
#include "sim/engine/real_time.h"
#include "sim/external_gpu.h"
#include "sim/metrics.h"
#include "sim/scenario.h"
#include "sim/util/interrupt.h"

namespace gpuslice {

struct ModelSummary {
  std::string name;
  uint64_t arrived = 0;
  uint64_t completed = 0;
  uint64_t dropped[kDropReasonCount] = {0, 0, 0};
  uint64_t dropped_total = 0;
  uint64_t in_flight_at_end = 0;
  uint64_t violations = 0;
  double violation_rate = 0;  // violations / (completed + dropped)
  double throughput_rps = 0;  // completed / simulated seconds
  double latency_mean_ms = 0, latency_p50_ms = 0, latency_p90_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;
  double queue_wait_mean_ms = 0, queue_wait_p99_ms = 0, queue_wait_max_ms = 0;
  uint64_t cold_starts = 0;
  int peak_instances = 0;
  double mean_batch_size = 0;
  double fractional_gpu_s = 0, whole_gpu_s = 0, fractional_usd = 0, whole_usd = 0;
  double sm_seconds_held = 0, sm_seconds_busy = 0;
};

struct LittlesLaw {
  double time_avg_in_system = 0;  // L = ∫N dt / T
  double arrival_rate_rps = 0;    // λ = arrived / T
  double mean_time_in_system_s = 0;  // W, counting the requests still in flight up to T
  double relative_error = 0;      // |L - λW| / max(L, tiny)
};

struct RunResult {
  std::string run_name;
  std::string policy;
  uint64_t seed = 0;
  nlohmann::ordered_json scenario;  // resolved, with this run's policy config
  std::vector<ModelSummary> models;
  ModelSummary overall;
  double simulated_s = 0;
  uint64_t events = 0;
  double wall_s = 0;
  LittlesLaw littles_law;
  long long skipped_rows = 0;   // bad trace rows skipped (sources with skip_bad_rows)
  long long filtered_rows = 0;  // trace rows of functions the sources do not emit
  std::shared_ptr<const Metrics> metrics;  // counters (the time series went to RunOptions::series_sink)
  ActionLog actions;
};

// Where a run stands, for a progress display. Reporting it never changes the run.
struct RunProgress {
  double simulated_s = 0;  // the simulated clock
  // The run's expected end in simulated seconds: the scenario's duration_s, else the end of
  // the workload when every source knows it (generators; traces with a window_s), else 0
  // (unknown). The drain after the last arrival may take the clock past it.
  double end_s = 0;
  uint64_t arrived = 0;  // requests arrived so far
};

struct RunOptions {
  RequestSink* request_sink = nullptr;            // per-request rows, when not null
  SeriesSink* series_sink = nullptr;              // the time series, one interval at a time
  ActionSink* action_sink = nullptr;              // every action as it is taken
  bool keep_actions = true;                       // also keep them in RunResult::actions
  const std::atomic<bool>* interrupted = nullptr; // checked as the run goes
  bool paranoid = false;                          // check the cluster after every change
  // Read the arrivals ahead and update the per-model counters on two helper threads
  // (traces/prefetched_stream.h, sim/metrics.h): the same results, in less wall time where
  // a core is spare; more CPU time in all.
  bool helper_threads = false;
  // The GPU backend: batches run on `external_gpu` and the clock follows `real_time`
  // (both or neither; sim/external_gpu.h). The run is then not reproducible byte for byte.
  ExternalGpu* external_gpu = nullptr;
  RealTime* real_time = nullptr;
  // When not null, called on the run's thread about every 0.25 s of wall time or less often
  // (the wall clock is read once every few thousand arrivals), and once when the events are
  // done, with simulated_s never decreasing. It must not throw.
  std::function<void(const RunProgress&)> progress;
};

// Throws InputError (bad trace data met during the run), Interrupted, std::logic_error.
RunResult RunSimulation(const Scenario& scenario, const PolicyRunSpec& run, const RunOptions& options = {});

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_SIMULATION_H_
