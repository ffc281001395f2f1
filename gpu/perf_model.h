// PerfModel: the ground truth of how long a batch takes on a slice of a GPU.
//
// The executor asks it for every batch; policies never do (they ask their Predictor, a
// separate belief). The foundation implements steps 1 and 2 of the execution model in
// DESIGN.md: the solo latency L(m, b, sm) interpolated from the model's profile, and the
// time quota under the token scheduler in its plain form (the slice runs q·W of every
// window W, so a batch needing L ms of GPU time spans ceil(L / qW) windows). Interference
// between co-running slices and a fitted quota model plug in behind the same call.
// Noise and the per-request overhead are the executor's.
//
// Thread-compatible: const methods may be called concurrently.
#ifndef GPUSLICE_GPU_PERF_MODEL_H_
#define GPUSLICE_GPU_PERF_MODEL_H_

#include <memory>
#include <vector>

#include "gpu/profile.h"

namespace gpuslice {

// Solo latency of one model as a function of batch and SM share, at full quota.
class LatencyCurve {
 public:
  static LatencyCurve FromProfile(std::shared_ptr<const LatencyProfile> profile);
  // The same latency for every batch and SM share: for analytic studies (queueing theory).
  static LatencyCurve Constant(double latency_ms);

  // REQUIRES: batch >= 1, 0 < sm_percent <= 100.
  double SoloMs(int batch, double sm_percent) const;

 private:
  std::shared_ptr<const LatencyProfile> profile_;
  double constant_ms_ = 0;
};

// The shape of the slice a batch runs on.
struct SliceShape {
  int sm_count;       // SMs the slice holds
  int gpu_sm_count;   // SMs of the whole GPU
  double quota;       // time quota in (0, 1]
};

class PerfModel {
 public:
  // `curves[m]` is model m's solo curve; `token_window_ms` is W of the token scheduler.
  PerfModel(std::vector<LatencyCurve> curves, double token_window_ms);

  // Latency of one batch, without noise or per-request overhead, in milliseconds.
  // REQUIRES: 0 <= model < model count; batch >= 1; 0 < quota <= 1.
  double BatchLatencyMs(int model, int batch, const SliceShape& slice) const;

  double token_window_ms() const { return token_window_ms_; }

 private:
  std::vector<LatencyCurve> curves_;
  double token_window_ms_;
};

// The quota effect alone: a batch that needs `solo_ms` of exclusive GPU time, run by a slice
// that holds the SMs for quota × window of every window, starting at a window boundary.
double TokenWindowLatencyMs(double solo_ms, double quota, double window_ms);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_PERF_MODEL_H_
