// TraceStats: what `gpuslice trace info` reports about a workload, computed in one
// streaming pass in memory that grows with the number of functions only.
#ifndef GPUSLICE_TRACES_TRACE_STATS_H_
#define GPUSLICE_TRACES_TRACE_STATS_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/arrival_stream.h"

namespace gpuslice {

struct TraceStats {
  long long requests = 0;
  double first_s = 0, last_s = 0, span_s = 0;
  size_t functions = 0;  // functions with at least one request
  std::vector<std::pair<std::string, long long>> top_functions;
  double mean_rps = 0, peak_rps = 0;  // peak: the busiest whole second [k, k+1)
  double mean_rpm = 0, peak_rpm = 0;  // peak: the busiest whole minute
  double interarrival_cv = 0;         // of all arrivals merged
  double input_tokens_mean = -1, output_tokens_mean = -1;  // -1: no tokens in the trace
  long long skipped_rows = 0, filtered_rows = 0;

  nlohmann::ordered_json ToJson() const;
  std::string ToText() const;
};

// Reads `stream` to its end. `names[f]` names function f.
TraceStats ComputeTraceStats(ArrivalStream& stream, const std::vector<std::string>& names, size_t top_n);

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_TRACE_STATS_H_
