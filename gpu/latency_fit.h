// Structural fits of a latency profile, for extrapolation (the truth) and prediction (the
// `learned` predictor and `gpuslice perf check`).
//
// SmCurve: at one batch size, latency against SM share s as L(s) = max(floor, a + k/s):
// work that parallelises over SMs (k/s) until a floor set by launch latency and the
// model's critical path. Fitted by least squares on the points above the floor (the split
// chosen to minimise the absolute percentage error), the floor being the median of the rest.
//
// StructuralModel: what a RaPP-like predictor is given (the SM sweep at full quota and the
// quota sweep at the largest SM share, per batch) turned into L(b, s, q) =
// max(SmCurve_b(s), Q_b(q)). Q_b is the measured quota sweep, made non-increasing in q. The
// rule: a slice throttled by its quota takes what the token scheduler imposes whatever its
// SMs, unless its solo latency on those SMs is longer still. On the V100 profiles this
// predicts the quota effect within 2.3% (ResNet-50) and 8.3% (MobileNet-V3) MAPE, against
// 18% and 54% for the plain token-window rule (docs/perf-model.md).
#ifndef GPUSLICE_GPU_LATENCY_FIT_H_
#define GPUSLICE_GPU_LATENCY_FIT_H_

#include <vector>

#include "gpu/profile.h"

namespace gpuslice {

struct SmCurve {
  double floor = 0, a = 0, k = 0;
  double At(double sm_percent) const;
  // REQUIRES: sm_percents ascending, the same size as latencies_ms, not empty.
  static SmCurve Fit(const std::vector<double>& sm_percents, const std::vector<double>& latencies_ms);
};

class StructuralModel {
 public:
  // Uses only the q = 100 SM sweep and the quota sweep at the largest SM share.
  static StructuralModel Fit(const LatencyProfile& profile);
  // The same from any set of points, complete grid or not (held-out fits): each batch uses
  // the full-quota points it has and the quota points at the largest full-quota SM share.
  // REQUIRES: at least one point at quota 100.
  static StructuralModel FitPoints(const std::vector<ProfilePoint>& points);

  double SoloMs(double batch, double sm_percent) const;
  // Latency at a quota; without a measured quota sweep, quota 100 only (else the caller
  // applies its own quota rule). REQUIRES: 0 < quota_percent <= 100.
  double PredictMs(double batch, double sm_percent, double quota_percent) const;
  bool has_quota() const;

 private:
  // Linear interpolation between batch indices of per-batch values.
  template <typename F>
  double AlongBatch(double batch, F at_index) const;
  double QuotaMs(size_t batch_index, double quota_percent) const;

  std::vector<int> batches_;
  std::vector<SmCurve> curves_;
  std::vector<std::vector<double>> quotas_;      // per batch, ascending
  std::vector<std::vector<double>> quota_rows_;  // per batch, latency at each of its quotas
};

// Pool-adjacent-violators: the closest non-increasing sequence (least squares).
std::vector<double> NonIncreasing(const std::vector<double>& values);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_LATENCY_FIT_H_
