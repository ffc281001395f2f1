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
// Interference between co-running slices and noise are applied by the executor.
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

class PerfModel {
 public:
  // `curves[m]` is model m's latency surface; `token_window_ms` is W of the token scheduler.
  PerfModel(std::vector<LatencyCurve> curves, double token_window_ms);

  // Latency of one batch, without noise or per-request overhead, in milliseconds.
  // REQUIRES: 0 <= model < model count; batch >= 1; 0 < quota <= 1.
  double BatchLatencyMs(int model, int batch, const SliceShape& slice) const {
    return curves_[static_cast<size_t>(model)].LatencyMs(batch, slice.sm_percent(), slice.quota, token_window_ms_);
  }

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
