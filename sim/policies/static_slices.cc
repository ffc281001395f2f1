#include "sim/policies/static_slices.h"

#include <cmath>

#include "sim/policies/placement.h"

namespace gpuslice {

GPUSLICE_REGISTER_POLICY("static-slices", StaticSlicesPolicy);

StaticSlicesPolicy::StaticSlicesPolicy(const JsonObject& c, const Scenario& scenario)
    : router_(static_cast<int>(c.IntegerIn("container_concurrency", 0, 0, 1'000'000)),
              static_cast<int>(c.IntegerIn("activator_buffer_limit", 0, 0, 1'000'000'000))) {
  predictor_spec_ = ReadPredictorSpec(c, "oracle");
  warm_start_ = c.Bool("warm_start", true);
  if (!c.Has("pods")) {
    // Default: one whole-GPU pod of every model.
    for (int m = 0; m < static_cast<int>(scenario.models.size()); ++m) {
      PodSpec pod;
      pod.model = m;
      pod.count = 1;
      pods_.push_back(pod);
    }
    return;
  }
  const auto& list = c.Value("pods");
  if (!list.is_array() || list.empty()) throw c.Error("pods", "expected a non-empty array of pod entries");
  for (size_t i = 0; i < list.size(); ++i) {
    JsonObject e(c.file(), list[i], c.PathOf("pods") + "/" + std::to_string(i));
    PodSpec pod;
    const std::string model = e.String("model");
    pod.model = scenario.model_index(model);
    if (pod.model < 0) throw e.Error("model", "unknown model '" + model + "'");
    pod.sm_percent = e.Positive("sm_percent", 100.0);
    if (pod.sm_percent > 100) throw e.Error("sm_percent", "must be in (0, 100]");
    pod.quota = e.Positive("quota", 1.0);
    if (pod.quota > 1) throw e.Error("quota", "must be in (0, 1]");
    if (e.Has("count") == e.Has("rate_rps")) throw e.Error("give exactly one of \"count\" and \"rate_rps\"");
    if (e.Has("count")) pod.count = static_cast<int>(e.IntegerIn("count", 1, 1, 1'000'000));
    pod.rate_rps = e.Positive("rate_rps", 0.0);
    pod.target_utilization = e.Positive("target_utilization", 0.7);
    if (pod.target_utilization > 1) throw e.Error("target_utilization", "must be in (0, 1]");
    e.RejectUnknownKeys();
    pods_.push_back(pod);
  }
}

int StaticSlicesPolicy::SizePods(const PodSpec& pod, const Predictor& predictor, const Scenario& scenario,
                                 int gpu_sm_count) {
  if (pod.count > 0) return pod.count;
  const int batch = scenario.models[static_cast<size_t>(pod.model)].max_batch;
  const int sm = std::max(1, static_cast<int>(std::lround(pod.sm_percent / 100.0 * gpu_sm_count)));
  const double latency_ms = predictor.PredictMs(pod.model, batch, SliceShape{sm, gpu_sm_count, pod.quota});
  // Back-to-back batches are held to the quota (the token schedule): the sustained interval
  // between batches, from the same belief split as the executor splits the truth.
  BatchWork work{predictor.PredictMs(pod.model, batch, SliceShape{sm, gpu_sm_count, 1.0}), 0.0};
  if (pod.quota < 1.0) work = SplitThrottledLatency(latency_ms, work.work_ms, pod.quota, kGridTokenWindowMs);
  const double interval_ms = std::max(latency_ms, SaturatedBatchIntervalMs(work, pod.quota, scenario.token_window_ms));
  const double throughput = scenario.models[static_cast<size_t>(pod.model)].PodRps(batch / (interval_ms / 1000.0));
  return std::max(1, static_cast<int>(std::ceil(pod.rate_rps / (throughput * pod.target_utilization) - 1e-9)));
}

void StaticSlicesPolicy::Start(PolicyContext& ctx) {
  ctx_ = &ctx;
  const auto predictor = MakePredictor(predictor_spec_, ctx.executor.perf_model());
  for (const PodSpec& pod : pods_) {
    const int gpu_sms = ctx.cluster.gpu(0).spec->sm_count;
    const int n = SizePods(pod, *predictor, ctx.scenario, gpu_sms);
    ctx.actions.Add(Action{0, "scale", pod.model, -1, -1, 0, pod.quota,
                           std::to_string(n) + " pods of " + std::to_string(pod.sm_percent) + "% SM (predictor " +
                               predictor->name() + ")"});
    for (int i = 0; i < n; ++i) PlaceSlice(ctx, pod.model, pod.sm_percent, pod.quota, warm_start_, 0, "place pod");
  }
}

void StaticSlicesPolicy::OnArrival(const Request& r) { router_.Route(ctx_->executor, r); }

void StaticSlicesPolicy::OnInstanceReady(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void StaticSlicesPolicy::OnSlotsFreed(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

}  // namespace gpuslice
