#include "gpu/perf_model.h"

#include <cmath>

namespace gpuslice {

LatencyCurve LatencyCurve::FromProfile(std::shared_ptr<const LatencyProfile> profile) {
  LatencyCurve c;
  c.fit_ = std::make_shared<StructuralModel>(StructuralModel::Fit(*profile));
  c.profile_ = std::move(profile);
  return c;
}

LatencyCurve LatencyCurve::Constant(double latency_ms) {
  LatencyCurve c;
  c.constant_ms_ = latency_ms;
  return c;
}

LatencyCurve LatencyCurve::Roofline(const RooflineSpec& spec, const GpuSpec& gpu) {
  LatencyCurve c;
  c.roofline_ = std::make_shared<RooflineSpec>(spec);
  c.roofline_gpu_ = &gpu;
  return c;
}

double LatencyCurve::SoloMs(double batch, double sm_percent) const {
  if (roofline_) return RooflineLatencyMs(*roofline_, *roofline_gpu_, batch, sm_percent);
  if (!profile_) return constant_ms_;
  const double smallest = profile_->sm_percents().front();
  if (sm_percent >= smallest) return profile_->LatencyFullQuotaMs(batch, sm_percent);
  return profile_->LatencyFullQuotaMs(batch, smallest) * fit_->SoloMs(batch, sm_percent) / fit_->SoloMs(batch, smallest);
}

double LatencyCurve::LatencyMs(double batch, double sm_percent, double quota, double window_ms) const {
  if (!profile_ || !profile_->has_quota_grid()) {
    return TokenWindowLatencyMs(SoloMs(batch, sm_percent), quota, window_ms);
  }
  const double smallest = profile_->sm_percents().front();
  if (sm_percent >= smallest) return profile_->GridMs(batch, sm_percent, 100.0 * quota);
  // Below the grid the solo latency grows by the fitted curve; the quota then throttles it
  // only if the throttled latency is longer still (the structural rule).
  return std::max(SoloMs(batch, sm_percent), profile_->GridMs(batch, smallest, 100.0 * quota));
}

PerfModel::PerfModel(std::vector<LatencyCurve> curves, double token_window_ms)
    : curves_(std::move(curves)), token_window_ms_(token_window_ms) {}

double TokenWindowLatencyMs(double solo_ms, double quota, double window_ms) {
  if (quota >= 1.0) return solo_ms;
  const double token_ms = quota * window_ms;
  const double full_windows = std::ceil(solo_ms / token_ms) - 1;
  return full_windows * window_ms + (solo_ms - full_windows * token_ms);
}

}  // namespace gpuslice
