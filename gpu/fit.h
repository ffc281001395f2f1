// `gpuslice fit`: from raw latency measurements to the profile the simulator reads, with the
// held-out error of the performance model fitted to them.
//
// Measurements are rows in the profile format (model, gpu, batch, sm_percent or sm_count,
// quota_percent, latency_ms), one row per repetition: a point may appear many times. The
// profile holds each point's median and, as `spread_ms`, half its interquartile range.
// The held-out error is that of two models fitted on the points kept: the structural model
// (gpu/latency_fit.h), and its SM curve with the plain token-window rule for the quota. Two
// tests each: a random fraction of the points held out (seeded), and each
// measured SM share held out in turn (all its points, every batch and quota).
#ifndef GPUSLICE_GPU_FIT_H_
#define GPUSLICE_GPU_FIT_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/perf_check.h"
#include "gpu/profile.h"

namespace gpuslice {

struct AggregatedPoint {
  ProfilePoint point;  // latency_ms = the median of its repetitions
  double spread_ms = 0;
  int repetitions = 0;
};

struct Measurements {
  std::string model, gpu;
  long rows = 0;
  std::vector<AggregatedPoint> points;  // sorted by (batch, sm, quota)
};

// Reads raw measurements; throws InputError naming file and line.
Measurements ReadMeasurements(const std::string& path);

// Writes the profile CSV (with spread_ms) to `path` through a temporary file.
void WriteProfile(const Measurements& m, const std::string& path);

struct FitReport {
  std::string model, gpu;
  long rows = 0;
  size_t points = 0;
  // The structural model: the SM curve at full quota and the quota curve measured at the
  // largest SM share (FaST-GShare's measured behaviour, docs/perf-model.md).
  ErrorStats random_holdout;  // a random fraction of the points
  ErrorStats sm_holdout;      // each SM share in turn
  // The SM curve at full quota and the plain token-window rule for the quota: the exact
  // behaviour of a strict token gate such as gpuslice calibrate's.
  ErrorStats token_rule_random_holdout;
  ErrorStats token_rule_sm_holdout;
  nlohmann::ordered_json ToJson() const;
  std::string ToText() const;
};

// REQUIRES: 0 < holdout_fraction < 1; token_window_ms > 0.
FitReport EvaluateFit(const Measurements& m, double holdout_fraction, uint64_t seed, double token_window_ms = 40);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_FIT_H_
