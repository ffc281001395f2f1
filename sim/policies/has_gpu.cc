#include "sim/policies/has_gpu.h"

#include <algorithm>
#include <cmath>

#include "sim/policies/placement.h"

namespace gpuslice {

GPUSLICE_REGISTER_POLICY("has-gpu", HasGpuPolicy);

double KalmanRate::Update(double z) {
  if (!primed_) {
    x_ = z;
    primed_ = true;
  } else {
    // A = H = 1: predict P + Q, then correct by the gain K = P / (P + R).
    const double p_pred = p_ + q_;
    const double k = p_pred / (p_pred + r_);
    x_ += k * (z - x_);
    p_ = (1 - k) * p_pred;
  }
  return x_ + std::sqrt(p_);
}

HasGpuPolicy::HasGpuPolicy(const JsonObject& c, const Scenario& scenario)
    : scenario_(scenario),
      // The platform's limit of requests in flight per pod (0 = none), as for every policy.
      router_(static_cast<int>(c.IntegerIn("container_concurrency", 0, 0, 1'000'000)), 0),
      last_down_(scenario.models.size(), -1) {
  HasGpuConfig& k = config_;
  k.interval_s = c.Positive("interval_s", 2.0);
  k.rate_window_s = c.Positive("rate_window_s", 10.0);
  k.kalman_q = c.Positive("kalman_q", 1.0);
  k.kalman_r = c.Positive("kalman_r", 10.0);
  k.min_margin_rps = c.NonNegative("min_margin_rps", 5.0);
  k.up_threshold = c.Positive("up_threshold", 0.9);
  k.down_threshold = c.Positive("down_threshold", 0.3);
  if (k.down_threshold >= k.up_threshold) throw c.Error("down_threshold", "must be below up_threshold");
  k.down_cooldown_s = c.NonNegative("down_cooldown_s", 10.0);
  k.quota_step = c.Positive("quota_step", 0.1);
  k.quota_floor = c.Positive("quota_floor", 0.05);
  k.occupancy_limit = c.Positive("occupancy_limit", 0.95);
  k.batch = static_cast<int>(c.IntegerIn("batch", 4, 1, 4096));
  k.throughput_overhead_ms = c.NonNegative("throughput_overhead_ms", 70.0);
  k.large_shortfall_rps = c.NonNegative("large_shortfall_rps", 25.0);
  k.large_sm_percent = c.Positive("large_sm_percent", 50.0);
  k.small_sm_percent = c.Positive("small_sm_percent", 30.0);
  k.new_gpu_min_rps = c.NonNegative("new_gpu_min_rps", 35.0);
  k.vertical = c.Bool("vertical", true);
  k.horizontal = c.Bool("horizontal", true);
  k.alignment = c.Bool("alignment", true);
  k.warm_start = c.Bool("warm_start", true);
  k.new_pod_quota = c.String("new_pod_quota", "best_throughput");
  if (k.new_pod_quota != "best_throughput" && k.new_pod_quota != "smallest_sufficient") {
    throw c.Error("new_pod_quota", "must be \"best_throughput\" or \"smallest_sufficient\"");
  }
  k.occupancy_integer_division = c.Bool("occupancy_integer_division", false);
  k.predictor = ReadPredictorSpec(c, "learned");
  for (size_t m = 0; m < scenario.models.size(); ++m) kalman_.emplace_back(k.kalman_q, k.kalman_r);
  arrivals_.assign(scenario.models.size(), ArrivalWindow(SecondsToSim(k.rate_window_s)));
}

double HasGpuPolicy::PodThroughput(int model, double sm_percent, double quota) const {
  // The scaler's model: 1000 / (L_pred + 70 ms) × (b + 1) / 2.
  const Gpu& gpu = ctx_->cluster.gpu(0);
  const SliceShape shape{SmCountFor(gpu, sm_percent), gpu.spec->sm_count, quota};
  const double l = predictor_->PredictMs(model, config_.batch, shape);
  return 1000.0 / (l + config_.throughput_overhead_ms) * (config_.batch + 1) / 2.0;
}

bool HasGpuPolicy::MeetsSlo(int model, double sm_percent, double quota) const {
  const Gpu& gpu = ctx_->cluster.gpu(0);
  const ModelSpec& m = scenario_.models[static_cast<size_t>(model)];
  const double l = predictor_->PredictMs(model, config_.batch, SliceShape{SmCountFor(gpu, sm_percent), gpu.spec->sm_count, quota});
  return l + m.outside_gpu_ms() <= m.slo_ms;
}

double HasGpuPolicy::Capacity(int model) const {
  double c = 0;
  for (int id : ctx_->executor.instances_of(model)) {
    const Instance& inst = ctx_->executor.instance(id);
    if (!inst.accepting()) continue;
    const Slice& s = ctx_->cluster.slice(inst.slice);
    c += PodThroughput(model, 100.0 * s.sm_count / ctx_->cluster.gpu(s.gpu).spec->sm_count, s.quota);
  }
  return c;
}

double HasGpuPolicy::Occupancy(int g) const {
  // Σ over rows of SM share × quota in use.
  const Gpu& gpu = ctx_->cluster.gpu(g);
  double o = 0;
  for (const SmPartition& p : gpu.partitions) {
    const double sm_fraction = static_cast<double>(p.sm_count) / gpu.spec->sm_count;
    o += (config_.occupancy_integer_division ? std::floor(sm_fraction + 1e-9) : sm_fraction) * p.quota_used;
  }
  return o;
}

void HasGpuPolicy::Start(PolicyContext& ctx) {
  ctx_ = &ctx;
  predictor_ = MakePredictor(config_.predictor, ctx.executor.perf_model());
  // One instance of every model is always kept, from the start: on a GPU of its own while
  // there are empty ones, then beside others (the least occupied first).
  for (int m = 0; m < static_cast<int>(scenario_.models.size()); ++m) {
    if (ctx.cluster.FirstEmptyGpu() >= 0) {
      AddPodOnNewGpu(m);
      continue;
    }
    std::vector<int> gpus(static_cast<size_t>(ctx.cluster.gpu_count()));
    for (int g = 0; g < ctx.cluster.gpu_count(); ++g) gpus[static_cast<size_t>(g)] = g;
    std::stable_sort(gpus.begin(), gpus.end(), [&](int a, int b) { return Occupancy(a) < Occupancy(b); });
    bool placed = false;
    for (int g : gpus) {
      if ((placed = AddPodOnGpu(m, g, 0.0, config_.warm_start))) break;
    }
    if (!placed) ctx.actions.Add(Action{0, "refused", m, -1, -1, 0, 0, "has-gpu: no room for the first pod"});
  }
  ctx.engine.ScheduleAfter(SecondsToSim(config_.interval_s), this);
}

bool HasGpuPolicy::AddPodOnNewGpu(int model) {
  // A new GPU with the most efficient configuration: the best throughput per SM × quota
  // among those that serve at least 35 rps (else the fastest).
  int gpu = ctx_->cluster.FirstEmptyGpu();
  if (gpu < 0) {
    ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", model, -1, -1, 0, 0, "has-gpu: no free GPU"});
    return false;
  }
  double best_sm = 100, best_q = 1, best_score = -1, fastest = -1, fastest_sm = 100, fastest_q = 1;
  for (int sm = 10; sm <= 100; sm += 10) {
    for (int q10 = 1; q10 <= 10; ++q10) {
      const double q = q10 / 10.0;
      const double t = PodThroughput(model, sm, q);
      if (t > fastest) fastest = t, fastest_sm = sm, fastest_q = q;
      if (t >= config_.new_gpu_min_rps && MeetsSlo(model, sm, q) && t / (sm * q) > best_score) {
        best_score = t / (sm * q), best_sm = sm, best_q = q;
      }
    }
  }
  if (best_score < 0) best_sm = fastest_sm, best_q = fastest_q;
  const Gpu& g = ctx_->cluster.gpu(gpu);
  SliceRequest r{gpu, -1, SmCountFor(g, best_sm), best_q, scenario_.models[static_cast<size_t>(model)].memory_mb, model};
  std::string why;
  const bool warm = config_.warm_start && ctx_->engine.Now() == 0;
  if (ctx_->executor.StartInstance(r, warm, &why, config_.batch) < 0) {
    ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", model, -1, gpu, 0, 0, "has-gpu: " + why});
    return false;
  }
  return true;
}

bool HasGpuPolicy::AddPodOnGpu(int model, int gpu, double shortfall, bool warm) {
  const Gpu& g = ctx_->cluster.gpu(gpu);
  const double wanted_sm = shortfall > config_.large_shortfall_rps ? config_.large_sm_percent : config_.small_sm_percent;
  const int wanted_count = SmCountFor(g, wanted_sm);
  int rows = 0;
  int aligned = -1, freest = -1;
  for (size_t p = 0; p < g.partitions.size(); ++p) {
    const SmPartition& row = g.partitions[p];
    if (row.sm_count == 0) continue;
    ++rows;
    const double free = 1.0 - row.quota_used;
    if (free < config_.quota_step - 1e-9) continue;
    if (row.sm_count == wanted_count && aligned < 0) aligned = static_cast<int>(p);
    if (freest < 0 || free > 1.0 - g.partitions[static_cast<size_t>(freest)].quota_used) freest = static_cast<int>(p);
  }
  // SM-partition alignment: a row of the same SM share, else an empty row (at most two rows
  // per GPU), else the row with the most free quota.
  int partition = -2;  // -2: none, -1: a new row
  if (config_.alignment && aligned >= 0) {
    partition = aligned;
  } else if (rows < 2 && g.free_sm() >= wanted_count) {
    partition = -1;
  } else if (freest >= 0) {
    partition = freest;
  }
  if (partition == -2) return false;
  const int sm = partition >= 0 ? g.partitions[static_cast<size_t>(partition)].sm_count : wanted_count;
  const double sm_percent = 100.0 * sm / g.spec->sm_count;
  const double free = partition >= 0 ? 1.0 - g.partitions[static_cast<size_t>(partition)].quota_used : 1.0;
  // Try quotas in steps up to what the row has free: the one with the best predicted
  // throughput (the paper), or the smallest that covers the shortfall; within the SLO.
  double quota = 0, best = -1;
  for (double q = config_.quota_step; q <= free + 1e-9; q += config_.quota_step) {
    if (!MeetsSlo(model, sm_percent, q)) continue;
    const double t = PodThroughput(model, sm_percent, q);
    if (config_.new_pod_quota == "smallest_sufficient") {
      quota = q;
      if (t >= shortfall) break;
    } else if (t > best + 1e-12) {
      best = t;
      quota = q;
    }
  }
  if (quota < config_.quota_floor) return false;
  SliceRequest r{gpu, partition, sm, std::min(1.0, quota), scenario_.models[static_cast<size_t>(model)].memory_mb, model};
  std::string why;
  return ctx_->executor.StartInstance(r, warm, &why, config_.batch) >= 0;
}

void HasGpuPolicy::ScaleUp(int model, double prediction) {
  const double target = prediction / config_.up_threshold;
  // 1. Vertical: raise quotas by one step in their rows, pods with the most SMs first.
  if (config_.vertical) {
    bool raised = true;
    while (raised && Capacity(model) < target) {
      raised = false;
      std::vector<int> pods;
      for (int id : ctx_->executor.instances_of(model)) {
        if (ctx_->executor.instance(id).accepting()) pods.push_back(id);
      }
      std::stable_sort(pods.begin(), pods.end(), [&](int a, int b) {
        return ctx_->cluster.slice(ctx_->executor.instance(a).slice).sm_count >
               ctx_->cluster.slice(ctx_->executor.instance(b).slice).sm_count;
      });
      for (int id : pods) {
        const Slice& s = ctx_->cluster.slice(ctx_->executor.instance(id).slice);
        if (s.quota >= 1.0 - 1e-9) continue;
        std::string why;
        if (ctx_->executor.SetQuota(id, std::min(1.0, s.quota + config_.quota_step), &why)) {
          raised = true;
          if (Capacity(model) >= target) return;
        }
      }
    }
  }
  if (!config_.horizontal) return;
  // 2. Horizontal: new pods on the least occupied GPUs in use; 3. then a new GPU.
  for (int guard = 0; guard < 64 && Capacity(model) < target; ++guard) {
    const double shortfall = target - Capacity(model);
    std::vector<int> gpus;
    for (int g = 0; g < ctx_->cluster.gpu_count(); ++g) {
      if (!ctx_->cluster.gpu(g).empty() && Occupancy(g) < config_.occupancy_limit) gpus.push_back(g);
    }
    std::stable_sort(gpus.begin(), gpus.end(), [&](int a, int b) { return Occupancy(a) < Occupancy(b); });
    bool added = false;
    for (int g : gpus) {
      if (AddPodOnGpu(model, g, shortfall)) {
        added = true;
        break;
      }
    }
    if (!added && !AddPodOnNewGpu(model)) break;
  }
}

void HasGpuPolicy::ScaleDown(int model, double prediction, SimTime now) {
  if (last_down_[static_cast<size_t>(model)] >= 0 &&
      now - last_down_[static_cast<size_t>(model)] < SecondsToSim(config_.down_cooldown_s)) {
    return;
  }
  const double keep = prediction / config_.up_threshold;
  bool changed = false;
  auto pods = [&]() {
    std::vector<int> out;
    for (int id : ctx_->executor.instances_of(model)) {
      if (ctx_->executor.instance(id).accepting()) out.push_back(id);
    }
    return out;
  };
  auto shape = [&](int id) -> const Slice& { return ctx_->cluster.slice(ctx_->executor.instance(id).slice); };
  // 1. Lower quotas by one step (floor 5%) while the capacity still covers the prediction.
  if (config_.vertical) {
    for (int id : pods()) {
      const double q = shape(id).quota;
      const double lower = std::max(config_.quota_floor, q - config_.quota_step);
      if (lower >= q - 1e-9) continue;
      const Slice& s = shape(id);
      const double sm_percent = 100.0 * s.sm_count / ctx_->cluster.gpu(s.gpu).spec->sm_count;
      const double loss = PodThroughput(model, sm_percent, q) - PodThroughput(model, sm_percent, lower);
      if (Capacity(model) - loss < keep || !MeetsSlo(model, sm_percent, lower)) continue;
      std::string why;
      changed = ctx_->executor.SetQuota(id, lower, &why) || changed;
    }
  }
  // 2. Remove the smallest pods while the rest cover the prediction; never the last.
  std::vector<int> candidates = pods();
  std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
    return shape(a).sm_count * shape(a).quota < shape(b).sm_count * shape(b).quota;
  });
  for (int id : candidates) {
    if (pods().size() <= 1) break;
    const Slice& s = shape(id);
    const double t = PodThroughput(model, 100.0 * s.sm_count / ctx_->cluster.gpu(s.gpu).spec->sm_count, s.quota);
    if (Capacity(model) - t < keep) continue;
    ctx_->executor.Drain(id);
    changed = true;
  }
  if (changed) last_down_[static_cast<size_t>(model)] = now;
}

void HasGpuPolicy::OnArrival(const Request& r) { router_.Route(ctx_->executor, r); }

void HasGpuPolicy::OnInstanceReady(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void HasGpuPolicy::OnSlotsFreed(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void HasGpuPolicy::OnEvent(SimTime now, uint64_t) {
  for (int m = 0; m < static_cast<int>(arrivals_.size()); ++m) {
    const uint64_t recent = arrivals_[static_cast<size_t>(m)].Record(now, ctx_->executor.arrived(m));
    const double rate = static_cast<double>(recent) / config_.rate_window_s;
    const double prediction = std::max(kalman_[static_cast<size_t>(m)].Update(rate), rate + config_.min_margin_rps);
    const double capacity = Capacity(m);
    if (prediction > config_.up_threshold * capacity) {
      ScaleUp(m, prediction);
    } else if (prediction < config_.down_threshold * capacity) {
      ScaleDown(m, prediction, now);
    }
  }
  ctx_->engine.ScheduleAfter(SecondsToSim(config_.interval_s), this);
}

}  // namespace gpuslice
