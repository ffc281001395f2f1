#include "gpu/perf_model.h"

#include <cmath>

namespace gpuslice {

LatencyCurve LatencyCurve::FromProfile(std::shared_ptr<const LatencyProfile> profile) {
  LatencyCurve c;
  c.profile_ = std::move(profile);
  return c;
}

LatencyCurve LatencyCurve::Constant(double latency_ms) {
  LatencyCurve c;
  c.constant_ms_ = latency_ms;
  return c;
}

double LatencyCurve::SoloMs(int batch, double sm_percent) const {
  if (profile_) return profile_->LatencyFullQuotaMs(batch, sm_percent);
  return constant_ms_;
}

PerfModel::PerfModel(std::vector<LatencyCurve> curves, double token_window_ms)
    : curves_(std::move(curves)), token_window_ms_(token_window_ms) {}

double TokenWindowLatencyMs(double solo_ms, double quota, double window_ms) {
  if (quota >= 1.0) return solo_ms;
  const double token_ms = quota * window_ms;
  const double full_windows = std::ceil(solo_ms / token_ms) - 1;
  return full_windows * window_ms + (solo_ms - full_windows * token_ms);
}

double PerfModel::BatchLatencyMs(int model, int batch, const SliceShape& slice) const {
  const double sm_percent = 100.0 * slice.sm_count / slice.gpu_sm_count;
  const double solo = curves_[model].SoloMs(batch, sm_percent);
  return TokenWindowLatencyMs(solo, slice.quota, token_window_ms_);
}

}  // namespace gpuslice
