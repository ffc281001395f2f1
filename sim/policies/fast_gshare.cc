#include "sim/policies/fast_gshare.h"

#include <algorithm>
#include <cmath>

#include "sim/policies/placement.h"

namespace gpuslice {

GPUSLICE_REGISTER_POLICY("fast-gshare", FastGSharePolicy);

FastGSharePolicy::FastGSharePolicy(const JsonObject& c, const Scenario& scenario)
    : router_(static_cast<int>(c.IntegerIn("container_concurrency", 0, 0, 1'000'000)), 0),
      arrivals_(scenario.models.size(), ArrivalWindow(SecondsToSim(10))) {
  FastGShareConfig& k = config_;
  k.sm_percent = c.Positive("sm_percent", 30.0);
  if (k.sm_percent > 100) throw c.Error("sm_percent", "must be in (0, 100]");
  k.quota = c.Positive("quota", 0.5);
  if (k.quota > 1) throw c.Error("quota", "must be in (0, 1]");
  k.batch = static_cast<int>(c.IntegerIn("batch", 1, 1, 4096));
  k.interval_s = c.Positive("interval_s", 10.0);
  k.rate_window_s = c.Positive("rate_window_s", 10.0);
  k.up_threshold = c.NonNegative("up_threshold", 0.2);
  k.down_threshold = c.NonNegative("down_threshold", 0.2);
  k.min_pods = static_cast<int>(c.IntegerIn("min_pods", 1, 1, 1'000'000));
  k.initial_pods = static_cast<int>(c.IntegerIn("initial_pods", k.min_pods, 1, 1'000'000));
  k.warm_start = c.Bool("warm_start", false);
  k.predictor = ReadPredictorSpec(c, "oracle");
  arrivals_.assign(scenario.models.size(), ArrivalWindow(SecondsToSim(k.rate_window_s)));
}

int FastGSharePolicy::Desired(const FastGShareConfig& c, int pods, double per_pod_rps, double rps) {
  const double capacity = pods * per_pod_rps;
  const int fit = std::max(c.min_pods, static_cast<int>(std::ceil(rps / per_pod_rps - 1e-9)));
  if (rps - capacity > c.up_threshold * capacity) return std::max(fit, pods);
  if (capacity - rps > c.down_threshold * capacity) return std::min(fit, pods);
  return pods;
}

void FastGSharePolicy::Start(PolicyContext& ctx) {
  ctx_ = &ctx;
  predictor_ = MakePredictor(config_.predictor, ctx.executor.perf_model());
  const Gpu& gpu = ctx.cluster.gpu(0);
  for (int m = 0; m < static_cast<int>(ctx.scenario.models.size()); ++m) {
    const double ms = predictor_->PredictMs(
        m, config_.batch, SliceShape{SmCountFor(gpu, config_.sm_percent), gpu.spec->sm_count, config_.quota});
    per_pod_rps_.push_back(ctx.scenario.models[static_cast<size_t>(m)].PodRps(config_.batch / (ms / 1000.0)));
    for (int i = 0; i < config_.initial_pods; ++i) {
      PlaceSlice(ctx, m, config_.sm_percent, config_.quota, config_.warm_start, config_.batch, "initial pod");
    }
  }
  ctx.engine.ScheduleAfter(SecondsToSim(config_.interval_s), this);
}

int FastGSharePolicy::Pods(int model) const {
  int n = 0;
  for (int id : ctx_->executor.instances_of(model)) n += ctx_->executor.instance(id).accepting();
  return n;
}

void FastGSharePolicy::OnArrival(const Request& r) { router_.Route(ctx_->executor, r); }

void FastGSharePolicy::OnInstanceReady(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void FastGSharePolicy::OnSlotsFreed(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void FastGSharePolicy::OnEvent(SimTime now, uint64_t) {
  for (int m = 0; m < static_cast<int>(arrivals_.size()); ++m) {
    const uint64_t recent = arrivals_[static_cast<size_t>(m)].Record(now, ctx_->executor.arrived(m));
    const double rps = static_cast<double>(recent) / config_.rate_window_s;
    const int pods = Pods(m);
    const int want = Desired(config_, pods, per_pod_rps_[static_cast<size_t>(m)], rps);
    if (want == pods) continue;
    ctx_->actions.Add(Action{now, "scale", m, -1, -1, 0, config_.quota,
                             std::to_string(pods) + " -> " + std::to_string(want) + " pods (" + std::to_string(rps) +
                                 " rps, " + std::to_string(per_pod_rps_[static_cast<size_t>(m)]) + " per pod)"});
    for (int i = pods; i < want; ++i) {
      if (PlaceSlice(*ctx_, m, config_.sm_percent, config_.quota, false, config_.batch, "scale up") < 0) break;
    }
    if (want < pods) DrainLeastBusy(ctx_->executor, m, pods - want);
  }
  ctx_->engine.ScheduleAfter(SecondsToSim(config_.interval_s), this);
}

}  // namespace gpuslice
