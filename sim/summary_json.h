// The summary of runs as JSON, under stable snake_case keys documented in docs/summary.md.
// It holds only simulated quantities (no wall-clock time), so the same scenario and seed
// give a byte-identical document.
#ifndef GPUSLICE_SIM_SUMMARY_JSON_H_
#define GPUSLICE_SIM_SUMMARY_JSON_H_

#include <vector>

#include <nlohmann/json.hpp>

#include "sim/simulation.h"

namespace gpuslice {

nlohmann::ordered_json ModelSummaryJson(const ModelSummary& s);
nlohmann::ordered_json RunSummaryJson(const RunResult& r);
nlohmann::ordered_json SummaryJson(const std::string& scenario_name, const std::vector<RunResult>& runs);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_SUMMARY_JSON_H_
