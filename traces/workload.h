// Workload: the scenario's "workload" array, validated, its functions discovered, and the
// ArrivalStream built from it. docs/workloads.md documents every source type and key.
//
// Generators (explicit rates, one function each unless noted):
//   poisson, gamma, mmpp, diurnal, stages, and population (N functions, Zipf popularity,
//   mixed per-function shapes).
// Traces (read as published, streamed; `file` relative to the scenario's folder):
//   csv, azure-functions-2019, azure-functions-2021, azure-llm, alibaba-genai, mooncake.
// Trace sources take the transformations: `functions` (keep only these), `top_functions`
// (the N most frequent), `window_s` [start, end) of trace time (re-based to its start),
// `rate_scale` (< 1 thins; > 1 superposes copies shifted by `copy_shift_s`), `time_scale`
// (> 1 replays faster), `start_s` (offset in the run); and `skip_bad_rows`, `spread`.
// Loading a trace source reads the trace once to discover its functions and their counts
// (needed for top-N and for mapping functions to models); errors in the file surface then.
#ifndef GPUSLICE_TRACES_WORKLOAD_H_
#define GPUSLICE_TRACES_WORKLOAD_H_

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/arrival_stream.h"
#include "traces/raw_trace.h"

namespace gpuslice {

// Limits of a workload, checked when it is parsed and again after load scaling, so that no
// source runs away (a Poisson rate of 1e300 used to grow memory until bad_alloc). The engine
// simulates about 1-3 M requests per second of wall time: 1e10 requests are hours of work.
inline constexpr double kMaxSourceRps = 1e7;             // one generator's mean rate
inline constexpr double kMaxExpectedRequests = 1e10;     // all sources together
inline constexpr double kMinSojournSeconds = 1e-3;       // an MMPP state's mean sojourn
inline constexpr long long kMaxPopulation = 1'000'000;   // functions of one population source
inline constexpr int kMaxTraceCopies = 1000;             // a trace's rate_scale

struct WorkloadSource {
  std::string type;
  nlohmann::ordered_json resolved;  // the entry with every default filled in
  std::string where;                // "file: /workload/3", for errors
  double start_s = 0;
  double end_s = 0;
  std::string rng_name;
  // Generators.
  std::string function;
  double rate_rps = 0, cv = 1;
  std::vector<double> rates_rps;
  double stage_s = 0;
  std::string spacing;
  double sojourn_s[2] = {0, 0};
  double amplitude = 0, period_s = 0, peak_s = 0;
  int population = 0;
  std::string name_prefix;
  double zipf_s = 1;
  double mix[3] = {0, 0, 0};  // poisson, diurnal, bursty
  double burst_ratio = 10;
  // Traces.
  bool is_trace = false;
  std::string path, durations_path, memory_path, function_column;
  bool skip_bad_rows = false;
  bool skip_unknown_functions = false;
  std::string spread;
  double spread_s = 1;
  TraceTransform transform;
  double rate_scale = 1, copy_shift_s = 1;
  double trace_last_s = 0;  // the latest record time in the trace (after CountFunctions)
  // The functions this source emits (after its filters), in order of first appearance,
  // with their request counts (counted in a trace; expected for a generator).
  std::vector<std::string> functions;
  std::vector<double> function_counts;
};

// Parses and validates `array` (at `pointer` of `file`), reading trace sources once to
// discover their functions. Throws InputError.
std::vector<WorkloadSource> ParseWorkload(const std::string& file, const nlohmann::ordered_json& array,
                                          const std::string& pointer, const std::string& base_dir);

// Throws InputError if a generator's mean rate exceeds kMaxSourceRps, a trace's rate_scale
// kMaxTraceCopies, or the expected requests of all sources kMaxExpectedRequests. `context`
// is said in the message when the load was scaled ("file: /load_scale 1e6").
void CheckWorkloadBounds(const std::vector<WorkloadSource>& sources, const std::string& context);

// The arrival stream of a parsed workload, and what its traces skipped.
class Workload {
 public:
  // `functions` maps every function of the scenario to its index. Sources emit only the
  // functions listed in their `functions` that `functions` knows.
  Workload(const std::vector<WorkloadSource>& sources, uint64_t seed, const NameIndex& functions);
  ArrivalStream& stream() { return *stream_; }
  long long skipped_rows() const;   // bad rows skipped (skip_bad_rows)
  long long filtered_rows() const;  // rows of functions the source does not emit

 private:
  std::vector<std::unique_ptr<NameIndex>> emit_;
  std::vector<TraceStream*> traces_;
  std::unique_ptr<ArrivalStream> stream_;
};

// Opens copy `copy` of a trace source's raw reader.
std::unique_ptr<RawTrace> OpenRawTrace(const WorkloadSource& source, uint64_t seed, int copy);

// `path` if absolute, else `base_dir/path`, made absolute (against the working folder) and
// lexically normal.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// The trace formats and generator types, for help and errors.
const std::vector<std::string>& TraceFormats();

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_WORKLOAD_H_
