// `gpuslice perf check`: how well the performance model predicts a measured grid it has not
// seen, in the two tests of the performance-model issue.
//
//  (a) SM interpolation: at quota 100, fit on every other measured SM share and predict the
//      others (every batch).
//  (b) Quota: given the full SM sweep at quota 100 and every quota at the largest SM share
//      (RaPP's inputs), predict every other (SM, quota) point (every batch).
// Each is reported for several methods as the mean absolute percentage error and the worst
// point. Works on any profile CSV in the project's format.
#ifndef GPUSLICE_GPU_PERF_CHECK_H_
#define GPUSLICE_GPU_PERF_CHECK_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/profile.h"

namespace gpuslice {

struct ErrorStats {
  std::string method;
  double mape_percent = 0;
  double worst_percent = 0;
  std::string worst_point;  // "batch 8, sm 5%, quota 50%: predicted 40.7, measured 33.6"
  size_t points = 0;
};

struct PerfCheckReport {
  std::string model, gpu;
  std::vector<ErrorStats> sm_interpolation;  // (a)
  std::vector<ErrorStats> quota;             // (b); empty without a quota sweep
  nlohmann::ordered_json ToJson() const;
  std::string ToText() const;
};

PerfCheckReport CheckProfile(const LatencyProfile& profile, double token_window_ms);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_PERF_CHECK_H_
