// The calibration run: measures every (model, batch, SM partition, quota) point of a plan on
// a CalibrationDevice, then fits the profiles the simulator reads.
//
// For each partition size, model and batch: warm-up runs, the units' full-quota durations
// (for the token gate), then `repetitions` inferences at each quota, every one starting on a
// fresh token window (the profile's meaning: the latency of one batch on an idle slice; the
// simulator adds queueing). Latency is GPU time from CUDA events around the inference.
// Then co-located pairs: each pair of models on two disjoint partitions of half the GPU,
// the first measured alone and beside the second running without pause.
//
// Output folder (written as DIR.partial and renamed when complete). Every measurement row
// reaches the disk when its point is done; an interrupted run (a signal, or a machine's time
// limit) leaves DIR.partial with the complete rows measured so far and INTERRUPTED.json
// saying where it stopped, never a DIR that looks complete:
//   metadata.json           device, driver, libraries, clocks, the plan, timings
//   measurements/<m>.csv    one row per repetition (gpuslice fit's input)
//   profiles/<m>.csv        medians and spread (the simulator's profile format)
//   fit.json                held-out error of the performance model per model
//   units.csv               each unit's full-quota time on the whole GPU (where time goes)
//   interference.csv        co-located slowdowns, measured and as the gpu-lets model says
#ifndef GPUSLICE_GPU_CALIBRATE_CALIBRATOR_H_
#define GPUSLICE_GPU_CALIBRATE_CALIBRATOR_H_

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <ostream>
#include <string>
#include <vector>

#include "gpu/calibrate/device.h"

namespace gpuslice {

struct CalibrationOptions {
  std::string zoo_dir;                       // folder of zoo JSON files
  std::vector<std::string> models;           // zoo names; empty = the whole zoo
  std::vector<int> batches{1, 2, 4, 8, 16, 32};
  std::vector<int> sm_counts;                // empty = every size the device allows
  std::vector<double> quotas{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  int repetitions = 10;
  int warmup = 5;
  double window_ms = 40;                     // token window
  int sequence = 0;                          // > 0: sequence length of sequence models
  bool pairs = true;                         // measure co-located pairs
  int pair_batch = 8;
  double holdout = 0.2;                      // fit: random hold-out fraction
  uint64_t seed = 1;
  std::string output_dir;
  const std::atomic<bool>* interrupted = nullptr;  // set by a signal: stop, keep DIR.partial
};

// Thrown when `interrupted` is seen; what() names DIR.partial and what it holds.
class CalibrationInterrupted : public std::runtime_error {
 public:
  explicit CalibrationInterrupted(const std::string& what) : std::runtime_error(what) {}
};

// Checks the options against the zoo (names, ranges); throws InputError.
void ValidateCalibrationOptions(const CalibrationOptions& options);

// A line per model of what the plan measures, with the zoo's counts (no GPU needed).
void DescribePlan(const CalibrationOptions& options, std::ostream& out);

// Runs the plan and writes the output folder. Progress lines go to `progress`.
// Throws GpuError on a failed GPU call, InputError on bad options.
void RunCalibration(const CalibrationOptions& options, CalibrationDevice& device, std::ostream& progress);


}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_CALIBRATOR_H_
