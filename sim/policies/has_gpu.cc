#include "sim/policies/has_gpu.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

#include "sim/policies/placement.h"

namespace gpuslice {

GPUSLICE_REGISTER_POLICY("has-gpu", HasGpuPolicy);

double KalmanRate::Update(double z) {
  // request_predictor_kalman.go, Update():
  // "xPred := kf.A * kf.x; PPred := kf.A*kf.P*kf.A + kf.Q"
  const double x_pred = x_;
  const double p_pred = p_ + q_;
  // "K := (PPred * kf.H) / (kf.H*PPred*kf.H + kf.R); kf.x = xPred + K*(measurement-kf.H*xPred)"
  const double k = p_pred / (p_pred + r_);
  x_ = x_pred + k * (z - x_pred);
  // "kf.P = (1 - K*kf.H) * PPred"
  p_ = (1 - k) * p_pred;
  // "kf.x += kf.Alpha * math.Sqrt(kf.P)"; "if kf.x < measurement+kf.MinBuffer { kf.x = ... }":
  // the offset and the floor are written back into the state.
  x_ += alpha_ * std::sqrt(p_);
  if (x_ < z + min_buffer_) x_ = z + min_buffer_;
  return x_;
}

// getFunctionTypeFromName (has_autoscaling.go:1105): the first of these in the lower-case name.
static std::string ModelType(const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* type : {"bert", "resnet", "convnext", "gpt", "mobilenet"}) {
    if (lower.find(type) != std::string::npos) return type;
  }
  return "unknown";
}

double HasGpuPolicy::HeuristicSmPercent(int model, double required_rps) const {
  // getOptimalSMPartition (has_autoscaling.go:1059-1102).
  const std::string type = ModelType(scenario_.models[static_cast<size_t>(model)].name);
  if (type == "bert") return required_rps > 30 ? 70 : 50;
  if (type == "resnet") return required_rps > 25 ? 50 : 30;
  if (type == "convnext") return required_rps > 30 ? 70 : 30;
  if (type == "gpt") return 80;
  if (type == "mobilenet") return required_rps > 40 ? 70 : 30;
  return 50;  // "defaultSM := int64(50)"
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
  k.kalman_per_model = c.Bool("kalman_per_model", false);
  k.up_threshold = c.Positive("up_threshold", 0.9);
  k.down_threshold = c.Positive("down_threshold", 0.3);
  if (k.down_threshold >= k.up_threshold) throw c.Error("down_threshold", "must be below up_threshold");
  k.down_cooldown_s = c.NonNegative("down_cooldown_s", 10.0);
  k.quota_step = c.Positive("quota_step", 0.1);
  if (k.quota_step > 1) throw c.Error("quota_step", "must be in (0, 1]");
  k.occupancy_limit = c.Positive("occupancy_limit", 0.95);
  k.batch = static_cast<int>(c.IntegerIn("batch", 4, 1, 4096));
  k.throughput_overhead_ms = c.NonNegative("throughput_overhead_ms", 70.0);
  k.new_gpu_config = c.String("new_gpu_config", "public");
  if (k.new_gpu_config != "public" && k.new_gpu_config != "search") {
    throw c.Error("new_gpu_config", "must be \"public\" or \"search\"");
  }
  k.new_gpu_sm_percent = c.Positive("new_gpu_sm_percent", 30.0);
  if (k.new_gpu_sm_percent > 100) throw c.Error("new_gpu_sm_percent", "must be in (0, 100]");
  k.new_gpu_quota = c.Positive("new_gpu_quota", 0.3);
  if (k.new_gpu_quota > 1) throw c.Error("new_gpu_quota", "must be in (0, 1]");
  k.new_gpu_min_rps = c.NonNegative("new_gpu_min_rps", 35.0);
  k.vertical = c.Bool("vertical", true);
  k.horizontal = c.Bool("horizontal", true);
  k.alignment = c.Bool("alignment", true);
  k.warm_start = c.Bool("warm_start", true);
  k.new_pod_quota = c.String("new_pod_quota", "best_throughput");
  if (k.new_pod_quota != "best_throughput" && k.new_pod_quota != "smallest_sufficient") {
    throw c.Error("new_pod_quota", "must be \"best_throughput\" or \"smallest_sufficient\"");
  }
  k.occupancy_integer_division = c.Bool("occupancy_integer_division", true);
  k.slo_gate = c.Bool("slo_gate", false);
  k.predictor = ReadPredictorSpec(c, "learned");
  const size_t filters = k.kalman_per_model ? scenario.models.size() : 1;
  for (size_t m = 0; m < filters; ++m) kalman_.emplace_back(k.kalman_q, k.kalman_r, 1.0, k.min_margin_rps);
  arrivals_.assign(scenario.models.size(), ArrivalWindow(SecondsToSim(k.rate_window_s)));
}

double HasGpuPolicy::PodThroughput(int model, double sm_percent, double quota) const {
  // rapp() (tmp_database.go): "(1000.0 / (latency + 70)) * float64(batch+1) / 2".
  const Gpu& gpu = ctx_->cluster.gpu(0);
  const SliceShape shape{SmCountFor(gpu, sm_percent), gpu.spec->sm_count, quota};
  const double l = predictor_->PredictMs(model, config_.batch, shape);
  return 1000.0 / (l + config_.throughput_overhead_ms) * (config_.batch + 1) / 2.0;
}

bool HasGpuPolicy::MeetsSlo(int model, double sm_percent, double quota) const {
  if (!config_.slo_gate) return true;
  const Gpu& gpu = ctx_->cluster.gpu(0);
  const ModelSpec& m = scenario_.models[static_cast<size_t>(model)];
  const double l = predictor_->PredictMs(model, config_.batch, SliceShape{SmCountFor(gpu, sm_percent), gpu.spec->sm_count, quota});
  return l + m.outside_gpu_ms() <= m.slo_ms;
}

double HasGpuPolicy::SmPercentOf(const Slice& s) const {
  return 100.0 * s.sm_count / ctx_->cluster.gpu(s.gpu).spec->sm_count;
}

double HasGpuPolicy::Capacity(int model) const {
  // GetFuncRPSCapability: "totalRPS += pod.RPS" over the function's pods.
  double c = 0;
  for (int id : ctx_->executor.instances_of(model)) {
    const Instance& inst = ctx_->executor.instance(id);
    if (!inst.accepting()) continue;
    const Slice& s = ctx_->cluster.slice(inst.slice);
    c += PodThroughput(model, SmPercentOf(s), s.quota);
  }
  return c;
}

double HasGpuPolicy::Occupancy(int g) const {
  // HGO: Σ over pods of SM share × quota. The public code computes "(cfg.SMPartition / 100.0)"
  // on integers, so a pod on less than 100% of the SMs adds 0 (occupancy_integer_division).
  const Gpu& gpu = ctx_->cluster.gpu(g);
  double o = 0;
  for (const SmPartition& p : gpu.partitions) {
    const double sm_fraction = static_cast<double>(p.sm_count) / gpu.spec->sm_count;
    o += (config_.occupancy_integer_division ? std::floor(sm_fraction + 1e-9) : sm_fraction) * p.quota_used;
  }
  return o;
}

std::vector<int> HasGpuPolicy::Pods(int model) const {
  std::vector<int> out;
  for (int id : ctx_->executor.instances_of(model)) {
    if (ctx_->executor.instance(id).accepting()) out.push_back(id);
  }
  return out;
}

void HasGpuPolicy::Log(const char* kind, int model, int gpu, int sm_count, double quota, const std::string& detail) {
  ctx_->actions.Add(Action{ctx_->engine.Now(), kind, model, -1, gpu, sm_count, quota, detail});
}

static std::string Fmt(const char* format, double a, double b = 0, double c = 0, double d = 0) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, format, a, b, c, d);
  return buffer;
}

void HasGpuPolicy::Start(PolicyContext& ctx) {
  ctx_ = &ctx;
  predictor_ = MakePredictor(config_.predictor, ctx.executor.perf_model());
  // One instance of every model is always kept, from the start: on a GPU of its own while
  // there are empty ones, then beside others (the least occupied first).
  for (int m = 0; m < static_cast<int>(scenario_.models.size()); ++m) {
    if (ctx.cluster.FirstEmptyGpu() >= 0) {
      AddPodOnNewGpu(m, 0.0);
      continue;
    }
    std::vector<int> gpus(static_cast<size_t>(ctx.cluster.gpu_count()));
    for (int g = 0; g < ctx.cluster.gpu_count(); ++g) gpus[static_cast<size_t>(g)] = g;
    std::stable_sort(gpus.begin(), gpus.end(), [&](int a, int b) { return Occupancy(a) < Occupancy(b); });
    bool placed = false;
    for (int g : gpus) {
      if ((placed = AddPodOnGpu(m, g, 0.0, config_.warm_start) > 0)) break;
    }
    if (!placed) Log("refused", m, -1, 0, 0, "has-gpu: no room for the first pod");
  }
  ctx.engine.ScheduleAfter(SecondsToSim(config_.interval_s), this);
}

double HasGpuPolicy::AddPodOnNewGpu(int model, double deficit) {
  int gpu = ctx_->cluster.FirstEmptyGpu();
  if (gpu < 0) {
    Log("refused", model, -1, 0, 0, "has-gpu: no free GPU");
    return 0;
  }
  double sm_percent = config_.new_gpu_sm_percent, quota = config_.new_gpu_quota;
  std::string why_shape;
  if (config_.new_gpu_config == "public") {
    // GetMostEfficientConfig() is called without the function's name (has_autoscaling.go:
    // 333), so its profile lookup fails and it returns its defaults: "bestSM := 30,
    // bestBatch := 4, bestQuota := 30" (tmp_database.go:706-708). The artifact's usage logs
    // show this shape.
    why_shape = "GetMostEfficientConfig's default";
  } else {
    // Option "search": what GetMostEfficientConfig means to do, the best throughput per
    // SM × quota among the shapes serving >= 35 rps (else the fastest), on a 5% SM grid.
    double best_score = -1, fastest = -1, fastest_sm = 100, fastest_q = 1;
    for (int sm = 5; sm <= 100; sm += 5) {
      for (int q10 = 1; q10 <= 10; ++q10) {
        const double q = q10 / 10.0;
        const double t = PodThroughput(model, sm, q);
        if (t > fastest) fastest = t, fastest_sm = sm, fastest_q = q;
        if (t >= config_.new_gpu_min_rps && MeetsSlo(model, sm, q) && t / (sm * q) > best_score) {
          best_score = t / (sm * q), sm_percent = sm, quota = q;
        }
      }
    }
    if (best_score < 0) sm_percent = fastest_sm, quota = fastest_q;
    why_shape = "the most efficient shape";
  }
  const Gpu& g = ctx_->cluster.gpu(gpu);
  const double capacity = PodThroughput(model, sm_percent, quota);
  SliceRequest r{gpu, -1, SmCountFor(g, sm_percent), quota, scenario_.models[static_cast<size_t>(model)].memory_mb, model};
  std::string why;
  const bool warm = config_.warm_start && ctx_->engine.Now() == 0;
  if (ctx_->executor.StartInstance(r, warm, &why, config_.batch) < 0) {
    Log("refused", model, gpu, r.sm_count, quota, "has-gpu: " + why);
    return 0;
  }
  Log("scale", model, gpu, r.sm_count, quota,
      "new GPU, " + why_shape + Fmt(": %.0f%% SM, quota %.2f, predicted %.2f rps (deficit %.2f rps)", sm_percent,
                                    quota, capacity, deficit));
  return capacity;
}

double HasGpuPolicy::AddPodOnGpu(int model, int gpu, double deficit, bool warm) {
  const Gpu& g = ctx_->cluster.gpu(gpu);
  // RetriveMaxAvailQuotaForGPU: every row's SM share and the quota it has left; a row not
  // yet used takes the model's heuristic share (getOptimalSMPartition on the deficit).
  struct Row {
    int partition;  // -1: a new row
    int sm_count;
    double free;
  };
  std::vector<Row> rows;
  int used_rows = 0;
  for (size_t p = 0; p < g.partitions.size(); ++p) {
    const SmPartition& row = g.partitions[p];
    if (row.sm_count == 0) continue;
    ++used_rows;
    rows.push_back({static_cast<int>(p), row.sm_count, 1.0 - row.quota_used});
  }
  const int heuristic_sms = SmCountFor(g, HeuristicSmPercent(model, deficit));
  // Two rows per GPU; the cluster refuses a row whose SMs do not fit beside the other.
  if (used_rows < 2 && g.free_sm() >= heuristic_sms) rows.push_back({-1, heuristic_sms, 1.0});
  if (!config_.alignment) {
    // Ablation: a new pod never joins a row already in use when it can open one.
    const bool can_open = !rows.empty() && rows.back().partition < 0;
    if (can_open) rows.erase(rows.begin(), rows.end() - 1);
  }
  // "Try different quota values in steps of DeltaIq ... If this configuration gives better
  // capacity, remember it" (has_autoscaling.go:236-263): the highest predicted capacity over
  // every row and quota, the first found on ties (rows in order, quotas ascending). Option
  // new_pod_quota "smallest_sufficient": the smallest quota covering the deficit instead.
  int best_row = -1;
  double best_quota = 0, best_capacity = 0;
  bool sufficient = false;
  const bool smallest = config_.new_pod_quota == "smallest_sufficient";
  for (size_t i = 0; i < rows.size() && !sufficient; ++i) {
    const double sm_percent = 100.0 * rows[i].sm_count / g.spec->sm_count;
    for (int n = 1; n * config_.quota_step <= rows[i].free + 1e-9; ++n) {
      const double q = std::min(1.0, n * config_.quota_step);
      if (!MeetsSlo(model, sm_percent, q)) continue;
      const double t = PodThroughput(model, sm_percent, q);
      if (smallest && t >= deficit) {
        best_row = static_cast<int>(i), best_quota = q, best_capacity = t;
        sufficient = true;
        break;
      }
      if (t > best_capacity) best_row = static_cast<int>(i), best_quota = q, best_capacity = t;
    }
  }
  if (best_row < 0) return 0;
  const Row& row = rows[static_cast<size_t>(best_row)];
  SliceRequest r{gpu, row.partition, row.sm_count, best_quota, scenario_.models[static_cast<size_t>(model)].memory_mb,
                 model};
  std::string why;
  if (ctx_->executor.StartInstance(r, warm, &why, config_.batch) < 0) {
    Log("refused", model, gpu, row.sm_count, best_quota, "has-gpu: " + why);
    return 0;
  }
  Log("scale", model, gpu, row.sm_count, best_quota,
      std::string(row.partition < 0 ? "new row" : "row ") + (row.partition < 0 ? "" : std::to_string(row.partition)) +
          Fmt(" (occupancy %.2f): %.0f%% SM, quota %.2f, predicted %.2f rps", Occupancy(gpu),
              100.0 * row.sm_count / g.spec->sm_count, best_quota, best_capacity) +
          Fmt(" (deficit %.2f rps)", deficit));
  return best_capacity;
}

void HasGpuPolicy::ScaleUp(int model, double prediction) {
  const double capacity = Capacity(model);
  // "deltaRPS := predRPS - ScaleUpThredshold*totalRPS" (has_autoscaling.go:73).
  double deficit = prediction - config_.up_threshold * capacity;
  Log("scale", model, -1, 0, 0,
      Fmt("scale up: prediction %.2f rps > %.2f x capacity %.2f rps; deficit %.2f rps", prediction,
          config_.up_threshold, capacity, deficit));
  // 1. Vertical: pods "sorted by SMPartition (descending)"; each raises its quota in steps
  //    of DeltaIq "for addQuota <= int(Aq) && deltaC < deltaR": as far as its row has quota
  //    left, until its own gain covers what is still missing (has_autoscaling.go:130-175).
  if (config_.vertical) {
    std::vector<int> pods = Pods(model);
    std::stable_sort(pods.begin(), pods.end(), [&](int a, int b) {
      return ctx_->cluster.slice(ctx_->executor.instance(a).slice).sm_count >
             ctx_->cluster.slice(ctx_->executor.instance(b).slice).sm_count;
    });
    for (int id : pods) {
      if (deficit <= 0) break;
      const Slice& s = ctx_->cluster.slice(ctx_->executor.instance(id).slice);
      const double sm_percent = SmPercentOf(s);
      const double row_free = 1.0 - ctx_->cluster.gpu(s.gpu).partitions[static_cast<size_t>(s.partition)].quota_used;
      const double before = PodThroughput(model, sm_percent, s.quota);
      double new_quota = s.quota, gain = 0;
      for (int n = 1; n * config_.quota_step <= row_free + 1e-9 && gain < deficit; ++n) {
        const double q = std::min(1.0, s.quota + n * config_.quota_step);
        if (!MeetsSlo(model, sm_percent, q)) continue;
        new_quota = q;
        gain = PodThroughput(model, sm_percent, q) - before;
      }
      if (new_quota <= s.quota + 1e-12) continue;
      const double old_quota = s.quota;
      std::string why;
      if (!ctx_->executor.SetQuota(id, new_quota, &why)) continue;
      deficit -= gain;
      Log("resize", model, s.gpu, s.sm_count, new_quota,
          Fmt("vertical: quota %.2f -> %.2f, +%.2f rps predicted, deficit left %.2f rps", old_quota, new_quota, gain,
              deficit));
    }
  }
  if (!config_.horizontal) return;
  // 2. Horizontal, "used GPU first": GPUs in use with occupancy below 0.95, least occupied
  //    first, one new pod on each until the deficit is covered; 3. then a new GPU.
  for (int guard = 0; guard < 256 && deficit > 0; ++guard) {
    std::vector<int> gpus;
    for (int g = 0; g < ctx_->cluster.gpu_count(); ++g) {
      if (!ctx_->cluster.gpu(g).empty() && Occupancy(g) < config_.occupancy_limit) gpus.push_back(g);
    }
    std::stable_sort(gpus.begin(), gpus.end(), [&](int a, int b) { return Occupancy(a) < Occupancy(b); });
    bool added = false;
    for (int g : gpus) {
      const double capacity_added = AddPodOnGpu(model, g, deficit);
      if (capacity_added <= 0) continue;
      added = true;
      deficit -= capacity_added;
      if (deficit <= 0) break;
    }
    if (deficit <= 0) break;
    const double on_new = AddPodOnNewGpu(model, deficit);
    if (on_new <= 0 && !added) break;  // no room anywhere: stop rather than loop
    deficit -= on_new;
  }
}

void HasGpuPolicy::ScaleDown(int model, double prediction, SimTime now) {
  if (last_down_[static_cast<size_t>(model)] >= 0 &&
      now - last_down_[static_cast<size_t>(model)] < SecondsToSim(config_.down_cooldown_s)) {
    return;
  }
  const double capacity = Capacity(model);
  // "deltaRPS := ScaleUpThredshold*totalRPS - predRPS" (has_autoscaling.go:92).
  double excess = config_.up_threshold * capacity - prediction;
  Log("scale", model, -1, 0, 0,
      Fmt("scale down: prediction %.2f rps < %.2f x capacity %.2f rps; excess %.2f rps", prediction,
          config_.down_threshold, capacity, excess));
  auto shape = [&](int id) -> const Slice& { return ctx_->cluster.slice(ctx_->executor.instance(id).slice); };
  // Pods "sorted by SMPartition", ascending.
  std::vector<int> pods = Pods(model);
  std::stable_sort(pods.begin(), pods.end(), [&](int a, int b) { return shape(a).sm_count < shape(b).sm_count; });
  bool changed = false;
  // 1. "for int(quota)-reduceQuota > 0 && deltaC < deltaR": each pod lowers its quota in
  //    steps of DeltaIq, staying above 0, until its own loss covers the excess left.
  if (config_.vertical) {
    for (int id : pods) {
      if (excess <= 0) break;
      const Slice& s = shape(id);
      const double sm_percent = SmPercentOf(s);
      const double before = PodThroughput(model, sm_percent, s.quota);
      double new_quota = s.quota, loss = 0;
      for (int n = 1; s.quota - n * config_.quota_step > 1e-9 && loss < excess; ++n) {
        const double q = s.quota - n * config_.quota_step;
        if (!MeetsSlo(model, sm_percent, q)) break;
        new_quota = q;
        loss = before - PodThroughput(model, sm_percent, q);
      }
      if (new_quota >= s.quota - 1e-12) continue;
      const double old_quota = s.quota;
      std::string why;
      if (!ctx_->executor.SetQuota(id, new_quota, &why)) continue;
      excess -= loss;
      changed = true;
      Log("resize", model, s.gpu, s.sm_count, new_quota,
          Fmt("vertical: quota %.2f -> %.2f, -%.2f rps predicted, excess left %.2f rps", old_quota, new_quota, loss,
              excess));
    }
  }
  // 2. "if pod.SMPartition > int64(50) { continue }"; "if podRPS <= deltaR": remove pods of
  //    at most 50% SM whose capacity fits in the excess left, never the last pod.
  for (int id : pods) {
    if (excess <= 0 || Pods(model).size() <= 1) break;
    const Slice& s = shape(id);
    if (SmPercentOf(s) > 50.0 + 1e-9) continue;
    const double t = PodThroughput(model, SmPercentOf(s), s.quota);
    if (t > excess) continue;
    excess -= t;
    Log("scale", model, s.gpu, s.sm_count, s.quota,
        Fmt("remove a pod of %.0f%% SM at quota %.2f: -%.2f rps predicted, excess left %.2f rps", SmPercentOf(s),
            s.quota, t, excess));
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
    // "predRPS := shortReqPred.Update(actualRPS)": one filter for every function in the
    // public code (persistentReconcile.go:140, :405); one per model with kalman_per_model.
    const double prediction = kalman_[config_.kalman_per_model ? static_cast<size_t>(m) : 0].Update(rate);
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
