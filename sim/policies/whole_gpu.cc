#include "sim/policies/whole_gpu.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/util/fixed_format.h"

namespace gpuslice {

GPUSLICE_REGISTER_POLICY("whole-gpu", WholeGpuPolicy);

WholeGpuPolicy::WholeGpuPolicy(const JsonObject& c, const Scenario& scenario)
    : router_(0, 0), state_(scenario.models.size()) {
  WholeGpuConfig& k = config_;
  k.container_concurrency = static_cast<int>(c.IntegerIn("container_concurrency", 0, 0, 1'000'000));
  k.target = c.NonNegative("target", 0.0);
  k.target_utilization = c.Positive("target_utilization", 0.7);
  if (k.target_utilization > 1.0) throw c.Error("target_utilization", "must be in (0, 1]");
  k.tick_s = c.Interval("tick_s", 2.0);
  k.stable_window_s = c.Interval("stable_window_s", 60.0);
  k.panic_window_percent = c.Positive("panic_window_percent", 10.0);
  if (k.panic_window_percent > 100) throw c.Error("panic_window_percent", "must be in (0, 100]");
  k.panic_threshold_percent = c.Positive("panic_threshold_percent", 200.0);
  k.max_scale_up_rate = c.Positive("max_scale_up_rate", 1000.0);
  k.max_scale_down_rate = c.Positive("max_scale_down_rate", 2.0);
  if (k.max_scale_down_rate < 1.0) throw c.Error("max_scale_down_rate", "must be >= 1");
  k.min_replicas = static_cast<int>(c.IntegerIn("min_replicas", 0, 0, 1'000'000));
  k.max_replicas = static_cast<int>(c.IntegerIn("max_replicas", 0, 0, 1'000'000));
  k.initial_replicas = static_cast<int>(c.IntegerIn("initial_replicas", std::max(1, k.min_replicas), 0, 1'000'000));
  k.scale_to_zero_grace_period_s = c.NonNegative("scale_to_zero_grace_period_s", 30.0);
  k.autoscaling = c.Bool("autoscaling", true);
  k.warm_start = c.Bool("warm_start", false);
  k.activator_buffer_limit = static_cast<int>(c.IntegerIn("activator_buffer_limit", 0, 0, 1'000'000'000));
  if (k.max_replicas > 0 && k.min_replicas > k.max_replicas) {
    throw c.Error("min_replicas", "exceeds max_replicas");
  }
  if (k.max_replicas > 0 && k.initial_replicas > k.max_replicas) {
    throw c.Error("initial_replicas", "exceeds max_replicas");
  }
  const long needed = static_cast<long>(k.initial_replicas) * static_cast<long>(scenario.models.size());
  if (needed > scenario.total_gpus()) {
    throw c.Error("initial_replicas", std::to_string(k.initial_replicas) + " replicas of " +
                                          std::to_string(scenario.models.size()) + " models need " +
                                          std::to_string(needed) + " GPUs; the cluster has " +
                                          std::to_string(scenario.total_gpus()));
  }
  double target = k.target > 0 ? k.target : (k.container_concurrency > 0 ? k.container_concurrency : 100.0);
  if (k.container_concurrency > 0) target = std::min(target, static_cast<double>(k.container_concurrency));
  target_per_pod_ = target * k.target_utilization;
  stable_ticks_ = std::max<size_t>(1, static_cast<size_t>(std::llround(k.stable_window_s / k.tick_s)));
  panic_ticks_ = std::max<size_t>(
      1, static_cast<size_t>(std::llround(k.stable_window_s * k.panic_window_percent / 100.0 / k.tick_s)));
  for (ModelState& s : state_) s.window.assign(stable_ticks_, 0.0);
  router_ = LeastLoadedRouter(k.container_concurrency, k.activator_buffer_limit);
}

void WholeGpuPolicy::Start(PolicyContext& ctx) {
  ctx_ = &ctx;
  for (int m = 0; m < static_cast<int>(ctx.scenario.models.size()); ++m) {
    for (int i = 0; i < config_.initial_replicas; ++i) StartOne(m, config_.warm_start, "initial");
  }
  if (config_.autoscaling) ctx.engine.ScheduleAfter(SecondsToSim(config_.tick_s), this);
}

bool WholeGpuPolicy::StartOne(int model, bool warm, const char* why) {
  const int gpu = ctx_->cluster.FirstEmptyGpu();
  const ModelSpec& m = ctx_->scenario.models[static_cast<size_t>(model)];
  if (gpu < 0) {
    ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", model, -1, -1, 0, 0, std::string(why) + ": no free GPU"});
    return false;
  }
  SliceRequest r;
  r.gpu = gpu;
  r.sm_count = ctx_->cluster.gpu(gpu).spec->sm_count;
  r.quota = 1.0;
  r.memory_mb = m.memory_mb;
  r.model = model;
  std::string refusal;
  if (ctx_->executor.StartInstance(r, warm, &refusal) < 0) {
    ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", model, -1, gpu, 0, 0, std::string(why) + ": " + refusal});
    return false;
  }
  return true;
}

int WholeGpuPolicy::Scale(int model, int* ready) const {
  int scale = 0;
  *ready = 0;
  for (int id : ctx_->executor.instances_of(model)) {
    const InstanceState s = ctx_->executor.instance(id).state;
    if (s == InstanceState::kReady) ++*ready;
    if (s == InstanceState::kReady || s == InstanceState::kLoading) ++scale;
  }
  return scale;
}

void WholeGpuPolicy::OnArrival(const Request& r) {
  if (!router_.Route(ctx_->executor, r)) return;
  // Buffered: the activator wakes a model that has no instance at all.
  int ready = 0;
  if (!config_.autoscaling || Scale(r.model, &ready) > 0) return;
  ModelState& s = state_[static_cast<size_t>(r.model)];
  const SimTime now = ctx_->engine.Now();
  if (s.wake_refused_at >= 0 && now - s.wake_refused_at < SecondsToSim(config_.tick_s)) return;
  s.wake_refused_at = StartOne(r.model, false, "activator: scale from zero") ? -1 : now;
}

void WholeGpuPolicy::OnInstanceReady(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void WholeGpuPolicy::OnSlotsFreed(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void WholeGpuPolicy::OnEvent(SimTime now, uint64_t /*tag*/) {
  Tick(now);
  ctx_->engine.ScheduleAfter(SecondsToSim(config_.tick_s), this);
}

void WholeGpuPolicy::Tick(SimTime now) {
  for (int m = 0; m < static_cast<int>(state_.size()); ++m) ScaleModel(m, now);
}

void WholeGpuPolicy::ScaleModel(int model, SimTime now) {
  ModelState& s = state_[static_cast<size_t>(model)];
  // Average concurrency over the last tick, from the exact time integral of in-flight requests.
  const double integral = ctx_->executor.inflight_integral(model, now);
  const double observed = (integral - s.last_integral) / config_.tick_s;
  s.last_integral = integral;
  s.window[s.window_next] = observed;
  s.window_next = (s.window_next + 1) % stable_ticks_;
  s.window_filled = std::min(s.window_filled + 1, stable_ticks_);

  // The newest `ticks` values, newest first: the ring's slots window_next-1 down to 0, then
  // from its end (no modulo: this runs for every model on every tick).
  auto window_mean = [&](size_t ticks) {
    ticks = std::min(ticks, s.window_filled);
    double sum = 0;
    size_t slot = s.window_next;
    for (size_t i = 0; i < ticks; ++i) {
      slot = slot == 0 ? stable_ticks_ - 1 : slot - 1;
      sum += s.window[slot];
    }
    return sum / static_cast<double>(ticks);
  };
  const double stable = window_mean(stable_ticks_);
  const double panic = window_mean(panic_ticks_);

  int ready = 0;
  const int scale = Scale(model, &ready);
  // Knative's autoscaler.go, Scale(), rule by rule:
  // "readyPodsCount := math.Max(1, float64(originalReadyPodsCount))"
  const double ready_for_rates = std::max(1, ready);
  // "maxScaleUp := math.Ceil(spec.MaxScaleUpRate * readyPodsCount)"
  // "maxScaleDown = math.Floor(readyPodsCount / spec.MaxScaleDownRate)"
  const double max_up = std::ceil(config_.max_scale_up_rate * ready_for_rates);
  const double max_down = std::floor(ready_for_rates / config_.max_scale_down_rate);
  // "dspc := math.Ceil(observedStableValue / spec.TargetValue)", and dppc for panic
  const double dspc = std::ceil(stable / target_per_pod_ - 1e-9);
  const double dppc = std::ceil(panic / target_per_pod_ - 1e-9);
  // "desiredStablePodCount := int32(math.Min(math.Max(dspc, maxScaleDown), maxScaleUp))"
  const int desired_stable = static_cast<int>(std::min(std::max(dspc, max_down), max_up));
  const int desired_panic = static_cast<int>(std::min(std::max(dppc, max_down), max_up));
  // "isOverPanicThreshold := dppc/readyPodsCount >= spec.PanicThreshold": the rounded count.
  const bool over_panic = dppc / ready_for_rates >= config_.panic_threshold_percent / 100.0;
  if (over_panic) {
    // "Begin panicking when we cross the threshold"; "still over: extend the panic window".
    if (s.panic_since < 0) ctx_->actions.Add(Action{now, "panic", model, -1, -1, 0, 0,
                                                    "enter: panic concurrency " + FixedDecimal(panic) + ", " +
                                                        std::to_string(static_cast<int>(dppc)) + " pods for " +
                                                        std::to_string(ready) + " ready"});
    s.panic_since = now;
  } else if (s.panic_since >= 0 && s.panic_since + SecondsToSim(config_.stable_window_s) < now) {
    // "Stop panicking after the surge has made its way into the stable metric."
    s.panic_since = -1;
    s.panic_max = 0;
    ctx_->actions.Add(Action{now, "panic", model, -1, -1, 0, 0, "exit"});
  }
  int desired = desired_stable;
  if (s.panic_since >= 0) {
    // "pick the larger of the two"; "We do not scale down while in panic mode."
    desired = std::max(desired, desired_panic);
    s.panic_max = std::max(s.panic_max, desired);
    desired = s.panic_max;
  }
  desired = std::max(desired, config_.min_replicas);
  if (config_.max_replicas > 0) desired = std::min(desired, config_.max_replicas);

  // Scale to zero only after the grace period, and never while requests wait.
  if (desired == 0) {
    if (ctx_->executor.inflight(model) > 0) {
      desired = 1;
      s.zero_since = -1;
    } else {
      if (s.zero_since < 0) s.zero_since = now;
      if (now - s.zero_since < SecondsToSim(config_.scale_to_zero_grace_period_s)) desired = std::min(1, scale);
    }
  } else {
    s.zero_since = -1;
  }

  if (desired == scale) return;
  if (desired > scale && !ctx_->actions.records_refusals() && ctx_->cluster.FirstEmptyGpu() < 0) {
    // Refusals not recorded (output.refusals "count", or a run without output): a scale-up
    // whose first pod finds no free GPU is its one refusal, as the log would show it (the
    // scale action, then "scale up: no free GPU"), and is not written.
    ctx_->actions.CountRefusal(model);
    return;
  }
  ctx_->actions.Add(Action{now, "scale", model, -1, -1, 0, 0,
                           std::to_string(scale) + " -> " + std::to_string(desired) +
                               " (stable " + FixedDecimal(stable) + ", panic " + FixedDecimal(panic) + ")"});
  if (desired > scale) {
    for (int i = scale; i < desired; ++i) {
      if (!StartOne(model, false, "scale up")) break;
    }
    return;
  }
  // Scale down: loading instances first (newest first), then the ready ones with least work.
  DrainLeastBusy(ctx_->executor, model, scale - desired);
}

}  // namespace gpuslice
