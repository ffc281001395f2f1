#include "sim/policies/fast_gshare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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
  k.interval_s = c.Interval("interval_s", 10.0);
  k.rate_window_s = c.Interval("rate_window_s", 10.0);
  k.up_threshold = c.NonNegative("up_threshold", 0.2);
  k.down_threshold = c.NonNegative("down_threshold", 0.2);
  k.backlog_drain_s = c.NonNegative("backlog_drain_s", k.interval_s);
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
    const int sm = SmCountFor(gpu, config_.sm_percent);
    const double ms = predictor_->PredictMs(m, config_.batch, SliceShape{sm, gpu.spec->sm_count, config_.quota});
    // Back-to-back batches are held to the quota: the sustained interval, split from the
    // belief as the executor splits the truth (as static-slices sizes its pods).
    BatchWork work{predictor_->PredictMs(m, config_.batch, SliceShape{sm, gpu.spec->sm_count, 1.0}), 0.0};
    if (config_.quota < 1.0) work = SplitThrottledLatency(ms, work.work_ms, config_.quota, kGridTokenWindowMs);
    const double interval_ms = std::max(ms, SaturatedBatchIntervalMs(work, config_.quota, ctx.scenario.token_window_ms));
    per_pod_rps_.push_back(ctx.scenario.models[static_cast<size_t>(m)].PodRps(config_.batch / (interval_ms / 1000.0)));
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
    size_t backlog = ctx_->executor.buffered(m);
    for (int id : ctx_->executor.instances_of(m)) {
      const Instance& inst = ctx_->executor.instance(id);
      backlog += inst.queue.items.size();
      for (const PodTask& t : inst.on_cpu) backlog += !t.post;  // not yet at the GPU either
    }
    const double demand =
        rps + (config_.backlog_drain_s > 0 ? static_cast<double>(backlog) / config_.backlog_drain_s : 0.0);
    const int pods = Pods(m);
    const double per_pod = per_pod_rps_[static_cast<size_t>(m)];
    const int want = Desired(config_, pods, per_pod, demand);
    if (want == pods) continue;
    char detail[256];
    std::snprintf(detail, sizeof detail,
                  "%d -> %d pods (reconstructed scaler): %.2f rps + backlog %zu = demand %.2f rps, capacity "
                  "%.2f rps at %.2f per pod",
                  pods, want, rps, backlog, demand, pods * per_pod, per_pod);
    ctx_->actions.Add(Action{now, "scale", m, -1, -1, 0, config_.quota, detail});
    for (int i = pods; i < want; ++i) {
      if (PlaceSlice(*ctx_, m, config_.sm_percent, config_.quota, false, config_.batch, "scale up") < 0) break;
    }
    if (want < pods) DrainLeastBusy(ctx_->executor, m, pods - want);
  }
  ctx_->engine.ScheduleAfter(SecondsToSim(config_.interval_s), this);
}

}  // namespace gpuslice
