#include "gpu/perf_model.h"

#include <algorithm>
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

BatchWork PerfModel::BatchWorkMs(int model, int batch, const SliceShape& slice) const {
  const LatencyCurve& curve = curves_[static_cast<size_t>(model)];
  const double solo = curve.SoloMs(batch, slice.sm_percent());
  if (slice.quota >= 1.0 || curve.profile() == nullptr || !curve.profile()->has_quota_grid()) {
    return {solo, 0.0};
  }
  const double measured = curve.LatencyMs(batch, slice.sm_percent(), slice.quota, kGridTokenWindowMs);
  return SplitThrottledLatency(measured, solo, slice.quota, kGridTokenWindowMs);
}

BatchWork SplitThrottledLatency(double measured_ms, double solo_ms, double quota, double window_ms) {
  const double token_ms = quota * window_ms;
  const double wait_ms = window_ms - token_ms;
  // k waits explain the measured latency: as many as fit without the work falling below
  // the solo latency (the batch never needs less GPU time than it takes alone), and at
  // most floor((G - T) / W), so that k + 1 periods of at least one token each hold it.
  const double k_best = std::floor((measured_ms - solo_ms) / wait_ms);
  const double k_max = measured_ms > token_ms ? std::floor((measured_ms - token_ms) / window_ms) : 0.0;
  const double k = std::clamp(k_best, 0.0, std::max(0.0, k_max));
  BatchWork w;
  w.work_ms = measured_ms - k * wait_ms;
  // Each of the k + 1 periods runs a token plus the launch-ahead; a hair more so that
  // rounding never needs a (k + 2)-th period.
  w.launch_ahead_ms = std::max(0.0, w.work_ms / (k + 1) - token_ms) * (1 + 1e-9) + (k > 0 ? 1e-9 : 0.0);
  return w;
}

double SaturatedBatchIntervalMs(const BatchWork& work, double quota, double window_ms) {
  if (quota >= 1.0) return work.work_ms;
  const double token_ms = quota * window_ms;
  constexpr int kWarmup = 8, kMeasured = 64;
  double t = 0, left = work.work_ms, first = -1, last = 0;
  int completed = 0;
  while (completed < kWarmup + kMeasured) {
    const double start = t;
    double budget = token_ms;
    auto complete = [&] {
      ++completed;
      if (completed == kWarmup) first = t;
      last = t;
      left = work.work_ms;
    };
    while (budget > 0 && completed < kWarmup + kMeasured) {
      if (left <= budget) {
        budget -= left;
        t += left;
        complete();
      } else {
        left -= budget;
        t += budget;
        budget = 0;
      }
    }
    // The batch in progress when the token ran out runs on for its launch-ahead; one that
    // had not started yet (a completion exactly at the token's end) launches nothing.
    if (left < work.work_ms) {
      const double overrun = std::min(left, work.launch_ahead_ms);
      left -= overrun;
      t += overrun;
      if (left <= 1e-9) complete();
    }
    t = start + window_ms + std::max(0.0, (t - start) - token_ms);
  }
  return (last - first) / kMeasured;
}

double TokenWindowLatencyMs(double solo_ms, double quota, double window_ms) {
  if (quota >= 1.0) return solo_ms;
  const double token_ms = quota * window_ms;
  const double full_windows = std::ceil(solo_ms / token_ms) - 1;
  return full_windows * window_ms + (solo_ms - full_windows * token_ms);
}

}  // namespace gpuslice
