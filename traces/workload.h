// Workload: the scenario's "workload" array, validated, and the ArrivalStream built from it.
//
// Source types (each an object in the array):
//   {"type": "poisson", "function": F, "rate_rps": R, "start_s": 0, "end_s": T}
//   {"type": "stages",  "function": F, "rates_rps": [...] | "file": "load.json",
//    "stage_s": 5, "start_s": 0, "spacing": "even" | "uniform" | "poisson"}
// ("source_file" in a resolved echo records where a file's rates came from; it is ignored)
//   {"type": "csv", "file": "trace.csv", "start_s": 0, "skip_unknown_functions": false}
// A stages file is HAS-GPU's format: `processed_request_counts` holds the rate of each
// stage, `parameters.duration` ("5s") its length. Relative paths are resolved against the
// scenario's folder. Each source draws from the RNG stream "arrivals/<function>" (with
// "#k" appended for a function's k-th further source).
#ifndef GPUSLICE_TRACES_WORKLOAD_H_
#define GPUSLICE_TRACES_WORKLOAD_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/arrival_stream.h"

namespace gpuslice {

struct WorkloadSource {
  std::string type;  // poisson | stages | csv
  int32_t function = -1;
  double rate_rps = 0;
  double start_s = 0;
  double end_s = 0;
  std::vector<double> rates_rps;
  double stage_s = 0;
  std::string spacing;
  std::string path;
  bool skip_unknown_functions = false;
  std::string rng_stream;

  nlohmann::ordered_json ToJson(const std::vector<std::string>& function_names) const;
};

// Parses `array` (at JSON pointer `pointer` of `file`). Throws InputError.
std::vector<WorkloadSource> ParseWorkload(const std::string& file, const nlohmann::ordered_json& array,
                                          const std::string& pointer, const std::string& base_dir,
                                          const std::unordered_map<std::string, int32_t>& functions);

std::unique_ptr<ArrivalStream> MakeArrivalStream(
    const std::vector<WorkloadSource>& sources, uint64_t seed,
    const std::unordered_map<std::string, int32_t>& functions);

// `path` if absolute, else `base_dir/path`.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_WORKLOAD_H_
