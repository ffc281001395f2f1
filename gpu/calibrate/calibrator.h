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
// A point that fails on the GPU (a model that does not fit a partition, a library with no
// kernel for a shape) is recorded in metadata.json's `failures` and skipped; the plan goes
// on. Five failures in a row stop it (the device is then likely unusable).
//
// Output folder (written as DIR.partial and renamed when complete). Every measurement row
// reaches the disk when its point is done; an interrupted run (a signal, the time budget, or
// a machine's time limit) leaves DIR.partial with the complete rows measured so far,
// PLAN.json and INTERRUPTED.json saying where it stopped, never a DIR that looks complete.
// A run with `resume` continues it: it keeps every complete point (rows of a point cut off
// mid-way are dropped), skips them, and measures the rest; its plan must be the same.
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
  bool resume = false;                       // continue DIR.partial (or start it)
  double budget_s = 0;                       // > 0: stop (as interrupted) after this long
  const std::atomic<bool>* interrupted = nullptr;  // set by a signal: stop, keep DIR.partial
};

// Thrown when `interrupted` is seen or the time budget is spent; what() names DIR.partial
// and what it holds. `budget_spent` tells the two apart (the command line's exit codes).
class CalibrationInterrupted : public std::runtime_error {
 public:
  CalibrationInterrupted(const std::string& what, bool budget_spent)
      : std::runtime_error(what), budget_spent_(budget_spent) {}
  bool budget_spent() const { return budget_spent_; }

 private:
  bool budget_spent_;
};

// What CheckDevice found: one line per check, and whether all passed.
struct DeviceCheck {
  std::vector<std::string> lines;
  bool ok = true;
};

// Exercises what a calibration needs, each check on its own so that one failure does not
// hide the others: a partition of the smallest size (a green context) and the whole GPU;
// on each, a convolutional model (cuDNN: convolutions, its engine sub-libraries) and a
// sequence model (cuBLAS: GEMMs) prepared at batch 1, run twice and their outputs checked;
// then two disjoint partitions side by side. Models are taken from the zoo when present
// (resnet50, bert_base), else the first zoo models. Never throws GpuError: a failed check is
// a line saying which call failed.
DeviceCheck CheckDevice(const CalibrationOptions& options, CalibrationDevice& device);

// Checks the options against the zoo (names, ranges); throws InputError.
void ValidateCalibrationOptions(const CalibrationOptions& options);

// A line per model of what the plan measures, with the zoo's counts (no GPU needed).
void DescribePlan(const CalibrationOptions& options, std::ostream& out);

// Runs the plan and writes the output folder. Progress lines go to `progress`.
// Throws InputError on bad options (before any GPU work: --sm-steps must be sizes the device
// makes), GpuError when five points in a row fail, CalibrationInterrupted as said above.
void RunCalibration(const CalibrationOptions& options, CalibrationDevice& device, std::ostream& progress);


}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_CALIBRATOR_H_
