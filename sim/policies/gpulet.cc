#include "sim/policies/gpulet.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/policies/placement.h"

namespace gpuslice {

GPUSLICE_REGISTER_POLICY("gpulet", GpuletPolicy);

GpuletPolicy::GpuletPolicy(const JsonObject& c, const Scenario& scenario)
    : scenario_(scenario),
      router_(static_cast<int>(c.IntegerIn("container_concurrency", 0, 0, 1'000'000)), 0),
      container_concurrency_(static_cast<int>(c.IntegerIn("container_concurrency", 0, 0, 1'000'000))),
      window_rates_(scenario.models.size()),
      scheduled_target_(scenario.models.size(), 0.0) {
  GpuletConfig& k = config_;
  if (c.Has("partitions_percent")) {
    const auto& a = c.Value("partitions_percent");
    if (!a.is_array() || a.empty()) throw c.Error("partitions_percent", "expected a non-empty array of percentages");
    k.partitions_percent.clear();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_number() || a[i].get<double>() <= 0 || a[i].get<double>() > 100) {
        throw JsonError(c.file(), c.PathOf("partitions_percent") + "/" + std::to_string(i), "expected a percentage in (0, 100]");
      }
      k.partitions_percent.push_back(a[i].get<double>());
    }
    std::sort(k.partitions_percent.begin(), k.partitions_percent.end());
  }
  k.max_models_per_gpulet = static_cast<int>(c.IntegerIn("max_models_per_gpulet", 3, 1, 64));
  k.latency_slack = c.Positive("latency_slack", 1.1);
  k.marginal_gain = c.NonNegative("marginal_gain", 0.05);
  k.leftover_slack_rps = c.NonNegative("leftover_slack_rps", 15.0);
  k.sample_interval_s = c.Interval("sample_interval_s", 0.5);
  k.rate_average_s = c.Interval("rate_average_s", 2.0);
  k.epoch_s = c.Interval("epoch_s", 20.0);
  k.window_s = c.Interval("window_s", 30.0);
  k.headroom_low = c.Positive("headroom_low", 1.5);
  k.headroom_high = c.Positive("headroom_high", 1.2);
  k.headroom_threshold_rps = c.NonNegative("headroom_threshold_rps", 125.0);
  k.reschedule_increase = c.NonNegative("reschedule_increase", 0.05);
  k.reschedule_increase_rps = c.NonNegative("reschedule_increase_rps", 10.0);
  k.reschedule_decrease = c.NonNegative("reschedule_decrease", 0.10);
  k.context_memory_mb = c.NonNegative("context_memory_mb", 1200.0);
  k.memory_fraction = c.Positive("memory_fraction", 0.9);
  if (k.memory_fraction > 1) throw c.Error("memory_fraction", "must be in (0, 1]");
  k.incremental = c.Bool("incremental", true);
  k.predictor = ReadPredictorSpec(c, "profile");
  // Absent: each model's mean generator rate (InitialRates); there is no default to echo.
  initial_rate_rps_ = c.Has("initial_rate_rps") ? c.Positive("initial_rate_rps") : -1.0;
  recent_.assign(scenario.models.size(), ArrivalWindow(SecondsToSim(k.rate_average_s)));
}

std::vector<double> GpuletPolicy::InitialRates() const {
  // The first schedule is for the rates the operator expects: a given rate, else each
  // model's mean rate over the generators of the workload (traces count 10 rps, until the
  // first epoch measures them).
  std::vector<double> rates(scenario_.models.size(), initial_rate_rps_ > 0 ? initial_rate_rps_ : 0.0);
  if (initial_rate_rps_ > 0) return rates;
  for (const WorkloadSource& w : scenario_.workload) {
    for (size_t k = 0; k < w.functions.size(); ++k) {
      auto it = scenario_.function_index.find(w.functions[k]);
      if (it == scenario_.function_index.end()) continue;
      const size_t m = static_cast<size_t>(scenario_.function_model[static_cast<size_t>(it->second)]);
      const double span = w.end_s - w.start_s;
      rates[m] += (!w.is_trace && span > 0) ? w.function_counts[k] / span : 10.0;
    }
  }
  return rates;
}

GpuletLayout GpuletPolicy::Partition(const std::vector<double>& rates, int gpus, int gpu_sms, long gpu_memory_mb,
                                     bool* ok) const {
  GpuletPlanner planner(scenario_, config_, *predictor_, gpus, gpu_sms, gpu_memory_mb);
  GpuletLayout layout;
  std::string why;
  const bool fitted = planner.Full(rates, &layout, &why);
  if (ok != nullptr) *ok = fitted;
  return layout;
}

bool GpuletPolicy::Increment(const GpuletLayout& current, const std::vector<double>& rates,
                             const std::vector<int>& changed, int gpus, int gpu_sms, long gpu_memory_mb,
                             GpuletLayout* out) const {
  GpuletPlanner planner(scenario_, config_, *predictor_, gpus, gpu_sms, gpu_memory_mb);
  std::string why;
  return planner.Incremental(current, rates, changed, out, &why);
}

void GpuletPolicy::Start(PolicyContext& ctx) {
  ctx_ = &ctx;
  predictor_ = MakePredictor(config_.predictor, ctx.executor.perf_model());
  // The first schedule's targets get the same headroom as every later one ("tgt_rate =
  // org_rate * AGGRESIVE_RATE_ROOM" below 125 rps, else RATE_ROOM; global_scheduler.cpp).
  std::vector<double> targets = InitialRates();
  for (double& t : targets) t *= t < config_.headroom_threshold_rps ? config_.headroom_low : config_.headroom_high;
  std::vector<int> all;
  for (int m = 0; m < static_cast<int>(targets.size()); ++m) all.push_back(m);
  Reschedule(targets, all, /*flush=*/true);
  next_epoch_ = SecondsToSim(config_.epoch_s);
  ctx.engine.ScheduleAfter(SecondsToSim(config_.sample_interval_s), this);
}

bool GpuletPolicy::Reschedule(const std::vector<double>& targets, const std::vector<int>& changed, bool flush) {
  const Cluster& cluster = ctx_->cluster;
  const Gpu& gpu0 = cluster.gpu(0);
  GpuletPlanner planner(scenario_, config_, *predictor_, cluster.gpu_count(), gpu0.spec->sm_count,
                        gpu0.spec->memory_mb);
  GpuletLayout next;
  std::string why;
  bool ok = false;
  const char* how = "full repartition";
  // doScheduling: "if(SysState->isSysFlush()) ... FullRepartition"; else "runScheduling(
  // &session, prev_output, new_output, false)" on the current state, and "if it failed"
  // FullRepartition.
  if (!flush && config_.incremental && !layout_.empty()) {
    ok = planner.Incremental(layout_, targets, changed, &next, &why);
    how = "incremental schedule";
    if (!ok) {
      ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", -1, -1, -1, 0, 0,
                               "gpulet: incremental schedule failed (" + why + "): full repartition"});
    }
  }
  if (!ok) {
    ok = planner.Full(targets, &next, &why);
    how = "full repartition";
  }
  // "if impossible, revert to previous decision" (recoverFromScheduleFailure): the
  // gpulets in place stay and the targets go back to theirs, so the next epoch tries
  // again. (At time 0 there is no previous decision: what fits is applied.)
  if (!ok && ctx_->engine.Now() > 0) {
    ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", -1, -1, -1, 0, 0,
                             "gpulet: schedule reverted: " + why});
    return false;
  }
  scheduled_target_ = targets;
  layout_ = next;
  std::string detail = std::string("gpulet: ") + how + (ok ? "" : " (partial: " + why + ")") + ", targets";
  std::vector<char> is_changed(targets.size(), 0);
  for (int m : changed) is_changed[static_cast<size_t>(m)] = 1;
  for (size_t m = 0; m < targets.size(); ++m) {
    char t[96];
    std::snprintf(t, sizeof t, " %s %.1f rps%s", scenario_.models[m].name.c_str(), targets[m], is_changed[m] ? "*" : "");
    detail += t;
  }
  ctx_->actions.Add(Action{ctx_->engine.Now(), "scale", -1, -1, -1, 0, 0, detail + " (* re-planned)"});
  for (const GpuletPlan& p : layout_) {
    char text[96];
    std::snprintf(text, sizeof text, "plan: gpulet of %.0f%% on GPU %d, duty %.2f ms, occupancy %.2f;",
                  p.partition_percent, p.gpu, p.duty_ms, p.occupancy());
    std::string line = text;
    for (const GpuletShare& s : p.shares) {
      char share[160];
      std::snprintf(share, sizeof share, " %s batch %d at %.1f rps, L %.2f ms;",
                    scenario_.models[static_cast<size_t>(s.model)].name.c_str(), s.batch, s.rate_rps, s.latency_ms);
      line += share;
    }
    ctx_->actions.Add(Action{ctx_->engine.Now(), "scale", p.shares.front().model, -1, p.gpu, 0, 0, line});
  }
  Apply(layout_);
  return true;
}

namespace {

bool SameModels(const GpuletPlan& a, const GpuletPlan& b) {
  if (a.shares.size() != b.shares.size()) return false;
  for (const GpuletShare& s : a.shares) {
    if (!b.Serves(s.model)) return false;
  }
  return true;
}

double ShareQuota(const GpuletPlan& plan, const GpuletShare& share) {
  return plan.shares.size() == 1 ? 1.0 : std::min(1.0, share.latency_ms / plan.duty_ms);
}

}  // namespace

void GpuletPolicy::Apply(const GpuletLayout& layout) {
  // unloadModels: a gpulet of the same GPU, size and models as one in place is the same
  // gpulet ("needToUnload" is false): it keeps its instances, with the new batches.
  std::vector<bool> kept(running_.size(), false);
  std::vector<GpuletPlan> starts;
  const Buckets<uint32_t> on_gpu = RunningByGpu();
  shares_dirty_ = true;
  for (const GpuletPlan& plan : layout) {
    bool found = false;
    for (const uint32_t i : on_gpu[static_cast<size_t>(plan.gpu)]) {
      Running& r = running_[i];
      if (kept[i] || r.replaced || r.plan.partition_percent != plan.partition_percent || !SameModels(r.plan, plan)) {
        continue;
      }
      kept[i] = true;
      found = true;
      UpdateInPlace(r, plan);
      break;
    }
    if (!found) starts.push_back(plan);
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    if (!kept[i]) running_[i].replaced = true;
  }
  pending_ = std::move(starts);
  Settle();
}

void GpuletPolicy::Settle() {
  // Draining an idle instance ends it at once, and its end calls back here: the work is
  // redone until nothing changes, never while running_ is being walked.
  if (settling_) {
    unsettled_ = true;
    return;
  }
  settling_ = true;
  do {
    unsettled_ = false;
    // A drained gpulet is forgotten once all its instances are gone; its SMs may start a
    // pending one.
    if (std::erase_if(running_, [&](const Running& r) {
      if (!r.draining) return false;
      for (int id : r.instances) {
        if (id >= 0 && ctx_->executor.instance(id).state != InstanceState::kGone) return false;
      }
      return true;
    }) > 0) {
      shares_dirty_ = true;
    }
    StartPending();
    DrainReplaced();
    std::vector<int> drains;
    drains.swap(to_drain_);
    for (int id : drains) {
      if (ctx_->executor.instance(id).accepting()) ctx_->executor.Drain(id);
    }
  } while (unsettled_ || !to_drain_.empty());
  settling_ = false;
}

void GpuletPolicy::UpdateInPlace(Running& r, const GpuletPlan& plan) {
  // Shares move quota (for cost) lowest first, so that the partition never passes 1.
  std::vector<std::pair<double, size_t>> order;
  for (size_t k = 0; k < plan.shares.size(); ++k) {
    for (size_t j = 0; j < r.plan.shares.size(); ++j) {
      if (r.plan.shares[j].model != plan.shares[k].model || r.instances[j] < 0) continue;
      const double delta = ShareQuota(plan, plan.shares[k]) - ShareQuota(r.plan, r.plan.shares[j]);
      order.push_back({delta, k * 1000 + j});
    }
  }
  std::sort(order.begin(), order.end());
  std::vector<int> instances(plan.shares.size(), -1);
  for (const auto& [delta, key] : order) {
    const size_t k = key / 1000, j = key % 1000;
    const int id = r.instances[j];
    instances[k] = id;
    if (ctx_->executor.instance(id).state == InstanceState::kGone) continue;
    ctx_->executor.SetMaxBatch(id, plan.shares[k].batch);
    std::string why;
    if (delta != 0) ctx_->executor.SetQuota(id, ShareQuota(plan, plan.shares[k]), &why);
  }
  r.plan = plan;
  r.instances = instances;
}

void GpuletPolicy::StartPending() {
  if (pending_.empty()) return;
  const bool warm = ctx_->engine.Now() == 0;
  // Built at the first plan that must wait; the gpulets started meanwhile are not replaced.
  Buckets<uint32_t> on_gpu;
  bool indexed = false;
  std::vector<GpuletPlan> waiting;
  for (GpuletPlan& plan : pending_) {
    const Gpu& gpu = ctx_->cluster.gpu(plan.gpu);
    const int sm = SmCountFor(gpu, plan.partition_percent);
    long memory_mb = 0;
    for (const GpuletShare& s : plan.shares) memory_mb += scenario_.models[static_cast<size_t>(s.model)].memory_mb;
    if (gpu.free_sm() < sm || gpu.free_memory_mb() < memory_mb) {
      // Its SMs are still held by gpulets being replaced: they drain now, and it starts
      // when they are gone (glet would load it beside them under MPS; here partitions
      // are exclusive).
      if (!indexed) on_gpu = RunningByGpu(), indexed = true;
      for (const uint32_t i : on_gpu[static_cast<size_t>(plan.gpu)]) {
        Running& r = running_[i];
        if (r.replaced && !r.draining) DrainNow(r, "its SMs go to a new gpulet");
      }
      waiting.push_back(std::move(plan));
      continue;
    }
    Running r{plan, std::vector<int>(plan.shares.size(), -1)};
    int partition = -1;
    for (size_t k = 0; k < plan.shares.size(); ++k) {
      const GpuletShare& s = plan.shares[k];
      // Temporal sharing inside a gpulet is round-robin by whole batches at the full
      // partition (glet); each model's share of the time, L / duty, is its quota for cost.
      SliceRequest request{plan.gpu, partition, partition < 0 ? sm : 0, ShareQuota(plan, s),
                           scenario_.models[static_cast<size_t>(s.model)].memory_mb, s.model, /*whole_batches=*/true};
      std::string why;
      const int id = ctx_->executor.StartInstance(request, warm, &why, s.batch);
      if (id < 0) {
        ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", s.model, -1, plan.gpu, sm, request.quota, "gpulet: " + why});
        continue;
      }
      partition = ctx_->cluster.slice(ctx_->executor.instance(id).slice).partition;
      r.instances[k] = id;
    }
    running_.push_back(std::move(r));
    shares_dirty_ = true;
  }
  pending_ = std::move(waiting);
}

Buckets<uint32_t> GpuletPolicy::RunningByGpu() const {
  std::vector<std::pair<uint32_t, uint32_t>> keyed;
  keyed.reserve(running_.size());
  for (size_t i = 0; i < running_.size(); ++i) keyed.push_back({static_cast<uint32_t>(running_[i].plan.gpu), static_cast<uint32_t>(i)});
  Buckets<uint32_t> on_gpu;
  on_gpu.Build(static_cast<size_t>(ctx_->cluster.gpu_count()), keyed);
  return on_gpu;
}

void GpuletPolicy::DrainNow(Running& r, const char* why) {
  r.draining = true;
  std::string models;
  for (const GpuletShare& s : r.plan.shares) models += " " + scenario_.models[static_cast<size_t>(s.model)].name;
  char detail[160];
  std::snprintf(detail, sizeof detail, "gpulet: the %.0f%% gpulet on GPU %d (%s) is replaced: %s",
                r.plan.partition_percent, r.plan.gpu, models.c_str() + 1, why);
  ctx_->actions.Add(Action{ctx_->engine.Now(), "scale", r.plan.shares.front().model, -1, r.plan.gpu,
                           SmCountFor(ctx_->cluster.gpu(r.plan.gpu), r.plan.partition_percent), 0, detail});
  for (int id : r.instances) {
    if (id >= 0) to_drain_.push_back(id);
  }
}

void GpuletPolicy::DrainReplaced() {
  // Make before break: a replaced gpulet drains once every gpulet of the new schedule that
  // serves one of its models is loaded: no pending gpulet serves the model, and no instance
  // of it in a gpulet of the new schedule is loading.
  bool any = false;
  for (const Running& r : running_) any = any || (r.replaced && !r.draining);
  if (!any) return;
  std::vector<char> waits_for_successor(scenario_.models.size(), 0);
  for (const GpuletPlan& p : pending_) {
    for (const GpuletShare& s : p.shares) waits_for_successor[static_cast<size_t>(s.model)] = 1;
  }
  for (const Running& q : running_) {
    if (q.replaced) continue;
    for (int id : q.instances) {
      if (id < 0) continue;
      const Instance& inst = ctx_->executor.instance(id);
      if (inst.state == InstanceState::kLoading) waits_for_successor[static_cast<size_t>(inst.model)] = 1;
    }
  }
  for (Running& r : running_) {
    if (!r.replaced || r.draining) continue;
    bool successors_ready = true;
    for (const GpuletShare& s : r.plan.shares) successors_ready = successors_ready && !waits_for_successor[static_cast<size_t>(s.model)];
    if (successors_ready) DrainNow(r, "the new schedule's gpulets of its models are ready");
  }
}

void GpuletPolicy::OnArrival(const Request& r) {
  // glet's "wrr" load balancer (load_balancer.cpp, updateWRR): each gpulet serving the
  // model gets requests in proportion to its scheduled throughput, here by smooth weighted
  // round-robin over the ready ones; before any is ready, requests wait in the buffer.
  if (ctx_->executor.buffered(r.model) == 0) {
    const int id = PickWeighted(r.model);
    if (id >= 0) {
      ctx_->executor.Route(r, id);
      return;
    }
  }
  router_.Route(ctx_->executor, r);
}

int GpuletPolicy::PickWeighted(int model) {
  if (shares_dirty_) {
    std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>> keyed;
    for (size_t i = 0; i < running_.size(); ++i) {
      const std::vector<GpuletShare>& shares = running_[i].plan.shares;
      for (size_t k = 0; k < shares.size(); ++k) {
        keyed.push_back({static_cast<uint32_t>(shares[k].model), {static_cast<uint32_t>(i), static_cast<uint32_t>(k)}});
      }
    }
    shares_by_model_.Build(scenario_.models.size(), keyed);
    shares_dirty_ = false;
  }
  double total = 0;
  int best = -1;
  for (const auto& [i, k] : shares_by_model_[static_cast<size_t>(model)]) {
    const Running& g = running_[i];
    if (g.draining) continue;
    const int id = g.instances[k];
    if (id < 0) continue;
    const Instance& inst = ctx_->executor.instance(id);
    if (inst.state != InstanceState::kReady) continue;
    if (container_concurrency_ > 0 && inst.inflight() >= container_concurrency_) continue;
    if (credit_.size() <= static_cast<size_t>(id)) credit_.resize(static_cast<size_t>(id) + 1, 0.0);
    const double weight = std::max(g.plan.shares[k].rate_rps, 1e-9);
    credit_[static_cast<size_t>(id)] += weight;
    total += weight;
    if (best < 0 || credit_[static_cast<size_t>(id)] > credit_[static_cast<size_t>(best)]) best = id;
  }
  if (best >= 0) credit_[static_cast<size_t>(best)] -= total;
  return best;
}

void GpuletPolicy::OnInstanceReady(int instance) {
  Settle();
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void GpuletPolicy::OnSlotsFreed(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void GpuletPolicy::OnInstanceGone(int) { Settle(); }

void GpuletPolicy::OnEvent(SimTime now, uint64_t) {
  // Request counts every sample interval; the rate averaged over rate_average_s.
  const size_t window_samples = std::max<size_t>(1, static_cast<size_t>(std::lround(config_.window_s / config_.sample_interval_s)));
  const size_t models = recent_.size();
  std::vector<double> current(models, 0.0);
  for (size_t m = 0; m < models; ++m) {
    SimTime span = 0;
    const uint64_t recent = recent_[m].Record(now, ctx_->executor.arrived(static_cast<int>(m)), &span);
    current[m] = span > 0 ? static_cast<double>(recent) / SimToSeconds(span) : 0.0;
    window_rates_[m].push_back(current[m]);
    if (window_rates_[m].size() > window_samples) window_rates_[m].pop_front();
  }
  if (now >= next_epoch_) {
    next_epoch_ = now + SecondsToSim(config_.epoch_s);
    // setupTasks (global_scheduler.cpp): the target is the window's peak rate with
    // headroom (×1.5 below 125 rps, else ×1.2); "diff_pntg > UP_THRESHOLD || diff_rate >
    // UP_THRESHOLD_RATE" puts the model in the incremental session; "diff_pntg <
    // -DOWN_THRESHOLD" or a model going quiet ("curr_rate<1 && mPerTaskTgtRate > 1", target
    // 0) sets SYS_FLUSH: a full repartition.
    std::vector<double> targets = scheduled_target_;
    std::vector<int> changed;
    bool flush = false;
    for (size_t m = 0; m < models; ++m) {
      const double peak = *std::max_element(window_rates_[m].begin(), window_rates_[m].end());
      const double target = peak * (peak < config_.headroom_threshold_rps ? config_.headroom_low : config_.headroom_high);
      const double old = scheduled_target_[m];
      if (current[m] < 1 && old > 1) {
        targets[m] = 0, flush = true;
        changed.push_back(static_cast<int>(m));
        continue;
      }
      if (old <= 0) {
        if (target > 0) targets[m] = target, changed.push_back(static_cast<int>(m));
        continue;
      }
      if (target > old * (1 + config_.reschedule_increase) || target > old + config_.reschedule_increase_rps) {
        targets[m] = target, changed.push_back(static_cast<int>(m));
      } else if (target < old * (1 - config_.reschedule_decrease)) {
        targets[m] = target, flush = true;
        changed.push_back(static_cast<int>(m));
      }
    }
    if (!changed.empty()) Reschedule(targets, changed, flush);
  }
  ctx_->engine.ScheduleAfter(SecondsToSim(config_.sample_interval_s), this);
}

}  // namespace gpuslice
