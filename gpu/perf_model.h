// PerfModel: the ground truth of how long a batch takes on a slice of a GPU.
//
// The executor asks it for every batch; policies never do (they ask a Predictor, their
// belief, gpu/predictor.h). For a model with a measured profile the truth is the
// measurement itself:
//  1. solo latency and the quota effect interpolated linearly in batch, SM share and quota
//     over the measured grid (LatencyProfile::GridMs), so the token scheduler's real
//     behaviour (window, phase, overrun; see docs/perf-model.md) comes from the data;
//  2. beyond the grid, the structural fit extrapolates: below the smallest measured SM share
//     by the fitted max(floor, a + k/sm) curve, above the largest batch along the last batch
//     segment (never decreasing), below the smallest quota as 1/quota;
//  3. a profile without a quota sweep, a constant-latency model or a roofline estimate
//     (gpu/roofline.h) gets the quota effect from the plain token-window rule
//     (ceil(L / qW) windows).
// The executor does not apply these latencies directly: it runs every batch through the
// token scheduler's windows (sim/executor.h). BatchWork turns a measured latency into what
// that schedule needs, the GPU work of the batch and the work queued past a token's end,
// such that one batch on an idle slice takes exactly the measured latency (docs/model.md,
// "Time quotas"). Interference between co-running slices and noise are applied by the
// executor.
//
// Thread-compatible: const methods may be called concurrently.
#ifndef GPUSLICE_GPU_PERF_MODEL_H_
#define GPUSLICE_GPU_PERF_MODEL_H_

#include <memory>
#include <vector>

#include "gpu/latency_fit.h"
#include "gpu/profile.h"
#include "gpu/roofline.h"

namespace gpuslice {

// The latency surface of one model.
class LatencyCurve {
 public:
  static LatencyCurve FromProfile(std::shared_ptr<const LatencyProfile> profile);
  // The same latency for every batch and SM share: for analytic studies (queueing theory).
  static LatencyCurve Constant(double latency_ms);
  // A roofline estimate on one GPU type (gpu/roofline.h); quotas by the token-window rule.
  static LatencyCurve Roofline(const RooflineSpec& spec, const GpuSpec& gpu);

  // REQUIRES: batch >= 1, 0 < sm_percent <= 100, 0 < quota <= 1, window_ms > 0.
  double LatencyMs(double batch, double sm_percent, double quota, double window_ms) const;
  // At full quota.
  double SoloMs(double batch, double sm_percent) const;

  // Null for a constant curve.
  const LatencyProfile* profile() const { return profile_.get(); }
  double constant_ms() const { return constant_ms_; }

 private:
  std::shared_ptr<const LatencyProfile> profile_;
  std::shared_ptr<const StructuralModel> fit_;
  double constant_ms_ = 0;
  std::shared_ptr<const RooflineSpec> roofline_;
  const GpuSpec* roofline_gpu_ = nullptr;
};

// The shape of the slice a batch runs on.
struct SliceShape {
  int sm_count;       // SMs the slice holds
  int gpu_sm_count;   // SMs of the whole GPU
  double quota;       // time quota in (0, 1]
  double sm_percent() const { return 100.0 * sm_count / gpu_sm_count; }
};

// How a batch occupies its slice under the token scheduler.
struct BatchWork {
  double work_ms = 0;          // GPU time the batch needs while it holds the SMs
  double launch_ahead_ms = 0;  // work already queued on the GPU when a token runs out
};

// The window at which the measured quota grids were taken (FaST-GShare's default, and
// `gpuslice calibrate`'s).
inline constexpr double kGridTokenWindowMs = 40.0;

// Splits a measured latency `measured_ms` of one batch on an idle slice of quota `quota`
// (window `window_ms`) into the work and launch-ahead that reproduce it under the token
// schedule: with n = k + 1 token periods of quota·W + launch-ahead each, separated by waits
// of W - quota·W, latency = work + k·(W - quota·W). k is the largest number of waits that
// leaves work >= the solo latency `solo_ms` (and fits), so work is in [solo, solo + W - q·W):
// the excess over solo is the token mechanism's own cost (synchronisation, host gaps) that
// the measurement holds.
// REQUIRES: measured_ms > 0, solo_ms > 0, 0 < quota < 1, window_ms > 0.
BatchWork SplitThrottledLatency(double measured_ms, double solo_ms, double quota, double window_ms);

// The steady-state time between batch completions of a slice that always has a next batch
// waiting, under the token schedule (the executor's rules): tokens of quota·W, the batch in
// progress at a token's end runs on for up to its launch-ahead, and the next token comes
// when the window's usage falls below quota·W, i.e. W + (period - quota·W) after the last
// one began. A saturated slice's throughput is batch / this interval.
// REQUIRES: work.work_ms > 0, 0 < quota <= 1, window_ms > 0.
double SaturatedBatchIntervalMs(const BatchWork& work, double quota, double window_ms);

class PerfModel {
 public:
  // `curves[m]` is model m's latency surface; `token_window_ms` is W of the token scheduler.
  PerfModel(std::vector<LatencyCurve> curves, double token_window_ms);

  // Latency of one batch, without noise or per-request overhead, in milliseconds.
  // REQUIRES: 0 <= model < model count; batch >= 1; 0 < quota <= 1.
  double BatchLatencyMs(int model, int batch, const SliceShape& slice) const {
    return curves_[static_cast<size_t>(model)].LatencyMs(batch, slice.sm_percent(), slice.quota, token_window_ms_);
  }

  // The batch's GPU work and launch-ahead under the token schedule. Quota 1 and curves
  // without a measured quota grid: the solo latency with no launch-ahead (the plain token
  // rule); a measured grid: SplitThrottledLatency of the grid's latency at W = 40 ms.
  // REQUIRES: as BatchLatencyMs.
  BatchWork BatchWorkMs(int model, int batch, const SliceShape& slice) const;

  double token_window_ms() const { return token_window_ms_; }
  const std::vector<LatencyCurve>& curves() const { return curves_; }

 private:
  std::vector<LatencyCurve> curves_;
  double token_window_ms_;
};

// The plain token-window rule: a batch that needs `solo_ms` of exclusive GPU time, run by a
// slice that holds the SMs for quota × window of every window, starting at a window boundary.
double TokenWindowLatencyMs(double solo_ms, double quota, double window_ms);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_PERF_MODEL_H_
