#include "sim/summary_json.h"

namespace gpuslice {

nlohmann::ordered_json ModelSummaryJson(const ModelSummary& s) {
  nlohmann::ordered_json j;
  j["arrived"] = s.arrived;
  j["completed"] = s.completed;
  j["dropped"] = {{"queue_timeout", s.dropped[0]},
                  {"no_capacity", s.dropped[1]},
                  {"admission", s.dropped[2]},
                  {"total", s.dropped_total}};
  j["in_flight_at_end"] = s.in_flight_at_end;
  j["violations"] = s.violations;
  j["violation_rate"] = s.violation_rate;
  j["slo_attainment"] = 1.0 - s.violation_rate;
  j["throughput_rps"] = s.throughput_rps;
  j["latency_ms"] = {{"mean", s.latency_mean_ms}, {"p50", s.latency_p50_ms}, {"p90", s.latency_p90_ms},
                     {"p99", s.latency_p99_ms}, {"max", s.latency_max_ms}};
  j["queue_wait_ms"] = {{"mean", s.queue_wait_mean_ms}, {"p99", s.queue_wait_p99_ms}, {"max", s.queue_wait_max_ms}};
  j["cold_starts"] = s.cold_starts;
  j["peak_instances"] = s.peak_instances;
  j["mean_batch_size"] = s.mean_batch_size;
  j["cost"] = {{"fractional_gpu_s", s.fractional_gpu_s},
               {"whole_gpu_s", s.whole_gpu_s},
               {"fractional_usd", s.fractional_usd},
               {"whole_usd", s.whole_usd}};
  j["sm_seconds"] = {{"held", s.sm_seconds_held}, {"busy", s.sm_seconds_busy}};
  // The share of the held GPUs' SM × time that no slice holds (fragmentation).
  j["fragmentation"] = s.whole_gpu_s > 0 ? 1.0 - s.fractional_gpu_s / s.whole_gpu_s : 0.0;
  return j;
}

nlohmann::ordered_json RunSummaryJson(const RunResult& r) {
  nlohmann::ordered_json j;
  j["name"] = r.run_name;
  j["policy"] = r.policy;
  j["seed"] = r.seed;
  j["simulated_s"] = r.simulated_s;
  j["overall"] = ModelSummaryJson(r.overall);
  for (const ModelSummary& m : r.models) j["models"][m.name] = ModelSummaryJson(m);
  j["workload"] = {{"skipped_rows", r.skipped_rows}, {"filtered_rows", r.filtered_rows}};
  if (!r.actions.logs_refusals()) {
    // output.refusals "count": the refused placements not written to the action log.
    nlohmann::ordered_json by_model = nlohmann::ordered_json::object();
    const std::vector<uint64_t>& counts = r.actions.refused_by_model();
    for (size_t m = 0; m < counts.size() && m < r.models.size(); ++m) {
      if (counts[m] > 0) by_model[r.models[m].name] = counts[m];
    }
    j["refusals_counted"] = {{"total", r.actions.refused()}, {"by_model", by_model}};
  }
  j["checks"] = {{"conservation", true},
                 {"littles_law",
                  {{"time_avg_in_system", r.littles_law.time_avg_in_system},
                   {"arrival_rate_rps", r.littles_law.arrival_rate_rps},
                   {"mean_time_in_system_s", r.littles_law.mean_time_in_system_s},
                   {"relative_error", r.littles_law.relative_error}}}};
  return j;
}

nlohmann::ordered_json SummaryJson(const std::string& scenario_name, const std::vector<RunResult>& runs) {
  nlohmann::ordered_json j;
  j["gpuslice_version"] = GPUSLICE_VERSION;
  j["scenario"] = scenario_name;
  j["runs"] = nlohmann::ordered_json::array();
  for (const RunResult& r : runs) j["runs"].push_back(RunSummaryJson(r));
  return j;
}

}  // namespace gpuslice
