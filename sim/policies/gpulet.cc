#include "sim/policies/gpulet.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/policies/placement.h"

namespace gpuslice {

GPUSLICE_REGISTER_POLICY("gpulet", GpuletPolicy);

double GpuletPlan::duty_ms() const {
  // Duty cycle of a gpulet: each model needs a batch every b / rate, and a round takes at
  // least the longest latency (the paper's max(b / rate, L)).
  double duty = 0;
  for (const GpuletShare& s : shares) duty = std::max({duty, 1000.0 * s.batch / s.rate_rps, s.latency_ms});
  return duty;
}

GpuletPolicy::GpuletPolicy(const JsonObject& c, const Scenario& scenario)
    : scenario_(scenario),
      router_(static_cast<int>(c.IntegerIn("container_concurrency", 0, 0, 1'000'000)), 0),
      window_rates_(scenario.models.size()),
      scheduled_target_(scenario.models.size(), 0.0),
      old_instances_(scenario.models.size()),
      new_instances_(scenario.models.size()) {
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
  k.sample_interval_s = c.Positive("sample_interval_s", 0.5);
  k.rate_average_s = c.Positive("rate_average_s", 2.0);
  k.epoch_s = c.Positive("epoch_s", 20.0);
  k.window_s = c.Positive("window_s", 30.0);
  k.headroom_low = c.Positive("headroom_low", 1.5);
  k.headroom_high = c.Positive("headroom_high", 1.2);
  k.headroom_threshold_rps = c.NonNegative("headroom_threshold_rps", 125.0);
  k.reschedule_increase = c.NonNegative("reschedule_increase", 0.05);
  k.reschedule_increase_rps = c.NonNegative("reschedule_increase_rps", 10.0);
  k.reschedule_decrease = c.NonNegative("reschedule_decrease", 0.10);
  k.context_memory_mb = c.NonNegative("context_memory_mb", 1200.0);
  k.memory_fraction = c.Positive("memory_fraction", 0.9);
  k.interference_pass_threshold = c.Positive("interference_pass_threshold", 0.85);
  k.predictor = ReadPredictorSpec(c, "profile");
  if (!c.Has("predictor")) k.predictor = PredictorSpec{"profile", 1, 1};
  initial_rate_rps_ = c.NonNegative("initial_rate_rps", -1.0);
  if (c.Has("initial_rate_rps") && initial_rate_rps_ <= 0) throw c.Error("initial_rate_rps", "must be > 0");
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

double GpuletPolicy::LatencyMs(int model, double p, int batch, double slowdown, int gpu_sms) const {
  const int sm = std::max(1, static_cast<int>(std::lround(p / 100.0 * gpu_sms)));
  return predictor_->PredictMs(model, batch, SliceShape{sm, gpu_sms, 1.0}) * config_.latency_slack * slowdown;
}

std::vector<GpuletPlan> GpuletPolicy::Partition(const std::vector<double>& rates, int gpus, int gpu_sms,
                                                long gpu_memory_mb, double slowdown) const {
  std::vector<GpuletPlan> plans;
  std::vector<bool> residual;
  // Rule 1: "sort(session.begin(), session.end(), cmp_task_dsc)" (glet
  // scheduler_incremental.cpp:136): despite its name the comparator orders by rate × SLO
  // ascending ("a.request_rate * a.SLO < b.request_rate * b.SLO"), ties by id descending.
  std::vector<int> order;
  for (int m = 0; m < static_cast<int>(rates.size()); ++m) {
    if (rates[static_cast<size_t>(m)] > 0) order.push_back(m);
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const double ka = rates[static_cast<size_t>(a)] * scenario_.models[static_cast<size_t>(a)].slo_ms;
    const double kb = rates[static_cast<size_t>(b)] * scenario_.models[static_cast<size_t>(b)].slo_ms;
    return ka < kb || (ka == kb && a > b);
  });
  for (int m : order) {
    const ModelSpec& spec = scenario_.models[static_cast<size_t>(m)];
    const double budget = spec.slo_ms - spec.outside_gpu_ms();  // the GPU's share of the SLO
    double remaining = rates[static_cast<size_t>(m)];
    // Rule 2: every partition's saturated throughput, batch the largest b with
    // 2·L(b, p) <= SLO (initSaturateTrp); the saturated partition is getMaxReturnPart's
    // (scheduler_incremental.cpp:650-690): over adjacent sizes (p_low, p_high), never the
    // largest pair, the p_high of the best marginal gain (T_high - T_low) / (p_high - p_low)
    // among those gaining at least 5% (T_high / T_low >= 1.05); the smallest size when none.
    std::vector<double> sat_tput(config_.partitions_percent.size(), 0.0), sat_latency(sat_tput.size(), 0.0);
    std::vector<int> sat_batch(sat_tput.size(), 0);
    for (size_t i = 0; i < config_.partitions_percent.size(); ++i) {
      const double p = config_.partitions_percent[i];
      for (int b = spec.max_batch; b >= 1; --b) {
        const double l = LatencyMs(m, p, b, slowdown, gpu_sms);
        if (2 * l > budget && b > 1) continue;
        sat_batch[i] = b, sat_latency[i] = l;
        sat_tput[i] = spec.PodRps(1000.0 * b / l);  // a pod's CPU stage may bound it
        break;
      }
    }
    size_t chosen = 0;
    double best_return = 0;
    const size_t n_parts = config_.partitions_percent.size();
    for (size_t i = 0; i + 2 < n_parts; ++i) {  // pairs (i, i + 1), never (n - 2, n - 1)
      const double low = sat_tput[i], high = sat_tput[i + 1];
      if (low <= 0 || high / low < 1 + config_.marginal_gain) continue;
      const double ret = (high - low) / (config_.partitions_percent[i + 1] - config_.partitions_percent[i]);
      if (ret > best_return) best_return = ret, chosen = i + 1;
    }
    if (n_parts == 1) chosen = 0;
    double best_p = config_.partitions_percent[chosen], best_tput = sat_tput[chosen], best_latency = sat_latency[chosen];
    int best_b = sat_batch[chosen];
    if (2 * best_latency > budget) best_p = -1;  // no batch meets the SLO: no saturated gpulet
    bool has_saturated = false;
    while (best_p > 0 && remaining > best_tput) {
      plans.push_back({best_p, {{m, best_b, best_tput, best_latency}}});
      residual.push_back(false);
      remaining -= best_tput;
      has_saturated = true;
    }
    // "if(rate <=TRP_SLACK) return;" (scheduler_incremental.cpp:196): a leftover of at most
    // 15 rps gets no gpulet. Here only beside saturated gpulets of the model, so that a
    // model of at most 15 rps is still served (glet would leave it unscheduled).
    if (remaining <= 1e-9 || (has_saturated && remaining <= config_.leftover_slack_rps)) continue;
    // Rule 3: the residual, the smallest partition with a batch that meets the SLO at this
    // rate: L(b, p) + b / rate <= SLO and b / L(b, p) >= rate.
    bool placed = false;
    for (double p : config_.partitions_percent) {
      for (int b = spec.max_batch; b >= 1 && !placed; --b) {
        const double l = LatencyMs(m, p, b, slowdown, gpu_sms);
        if (l + 1000.0 * b / remaining <= budget && 1000.0 * b / l >= remaining) {
          plans.push_back({p, {{m, b, remaining, l}}});
          residual.push_back(true);
          placed = true;
        }
      }
      if (placed) break;
    }
    if (!placed) {
      // Nothing meets the SLO at this rate: the best effort is a saturated (or whole) gpulet.
      const double p = best_p > 0 ? best_p : config_.partitions_percent.back();
      const int b = best_p > 0 ? best_b : 1;
      plans.push_back({p, {{m, b, remaining, LatencyMs(m, p, b, slowdown, gpu_sms)}}});
      residual.push_back(false);
    }
  }
  // Rule 4: placement. Per GPU: its gpulets' sizes and memory.
  struct GpuState {
    std::vector<size_t> plans;
    double used_percent = 0;
    double memory_mb = 0;
  };
  std::vector<GpuState> state(static_cast<size_t>(gpus));
  const double memory_cap = config_.memory_fraction * static_cast<double>(gpu_memory_mb);
  std::vector<GpuletPlan> placed_plans;
  std::vector<bool> placed_residual;
  for (size_t i = 0; i < plans.size(); ++i) {
    GpuletPlan plan = plans[i];
    const GpuletShare& share = plan.shares.front();
    const double model_mb = static_cast<double>(scenario_.models[static_cast<size_t>(share.model)].memory_mb);
    bool done = false;
    if (residual[i]) {
      // Time-share an existing gpulet: Σ L / duty <= 1 and duty + Σ L <= every SLO.
      for (size_t h = 0; h < placed_plans.size(); ++h) {
        GpuletPlan& host = placed_plans[h];
        if (host.gpu < 0 || static_cast<int>(host.shares.size()) >= config_.max_models_per_gpulet) continue;
        // A residual never joins a saturated gpulet nor one serving its own model
        // (scheduler_incremental.cpp:441, :451).
        if (!placed_residual[h]) continue;
        bool same_model = false;
        for (const GpuletShare& o : host.shares) same_model = same_model || o.model == share.model;
        if (same_model) continue;
        if (state[static_cast<size_t>(host.gpu)].memory_mb + model_mb > memory_cap) continue;
        GpuletPlan trial = host;
        trial.shares.push_back({share.model, share.batch, share.rate_rps,
                                LatencyMs(share.model, host.partition_percent, share.batch, slowdown, gpu_sms)});
        const double duty = trial.duty_ms();
        double sum = 0;
        for (const GpuletShare& s : trial.shares) sum += s.latency_ms;
        bool ok = sum <= duty;
        for (const GpuletShare& s : trial.shares) {
          const ModelSpec& ms = scenario_.models[static_cast<size_t>(s.model)];
          ok = ok && duty + sum <= ms.slo_ms - ms.outside_gpu_ms();
        }
        if (!ok) continue;
        host = trial;
        state[static_cast<size_t>(host.gpu)].memory_mb += model_mb;
        done = true;
        break;
      }
    }
    for (size_t g = 0; g < state.size() && !done; ++g) {
      // A free slot that holds it: the rest of a GPU split by one gpulet (at most two per
      // GPU), or an empty GPU, split into p and 100 - p.
      GpuState& s = state[g];
      const bool fits_slot = s.plans.size() == 1 && s.used_percent + plan.partition_percent <= 100 + 1e-9;
      const bool empty = s.plans.empty();
      if (!fits_slot && !empty) continue;
      if (s.memory_mb + model_mb + config_.context_memory_mb > memory_cap) continue;
      plan.gpu = static_cast<int>(g);
      s.plans.push_back(placed_plans.size());
      s.used_percent += plan.partition_percent;
      s.memory_mb += model_mb + config_.context_memory_mb;
      done = true;
    }
    if (done && residual[i] && plan.gpu < 0) continue;  // merged into a host above
    placed_plans.push_back(plan);  // gpu stays -1 if it did not fit
    placed_residual.push_back(residual[i]);
  }
  return placed_plans;
}

void GpuletPolicy::Start(PolicyContext& ctx) {
  ctx_ = &ctx;
  predictor_ = MakePredictor(config_.predictor, ctx.executor.perf_model());
  // The first schedule's targets get the same headroom as every later one ("tgt_rate =
  // org_rate * AGGRESIVE_RATE_ROOM" below 125 rps, else RATE_ROOM; global_scheduler.cpp).
  std::vector<double> targets = InitialRates();
  for (double& t : targets) t *= t < config_.headroom_threshold_rps ? config_.headroom_low : config_.headroom_high;
  Reschedule(targets);
  next_epoch_ = SecondsToSim(config_.epoch_s);
  ctx.engine.ScheduleAfter(SecondsToSim(config_.sample_interval_s), this);
}

void GpuletPolicy::Reschedule(const std::vector<double>& rates) {
  const Cluster& cluster = ctx_->cluster;
  const Gpu& gpu0 = cluster.gpu(0);
  int empty = 0;
  for (int g = 0; g < cluster.gpu_count(); ++g) empty += cluster.gpu(g).empty();
  std::vector<GpuletPlan> plan = Partition(rates, empty, gpu0.spec->sm_count, gpu0.spec->memory_mb, 1.0);
  // Rule 5: the interference-aware second pass when the plan, slowed by interference
  // between the two gpulets of a GPU, would serve under 85% of the target.
  double target = 0, served = 0;
  for (const GpuletPlan& p : plan) {
    if (p.gpu < 0) continue;  // unplaced: a capacity problem, not interference
    for (const GpuletShare& s : p.shares) {
      target += s.rate_rps;
      double slowdown = 1.0;
      for (const GpuletPlan& other : plan) {
        if (&other == &p || other.gpu != p.gpu) continue;
        for (const GpuletShare& o : other.shares) {
          const auto& c = scenario_.interference_coefficients;
          const ModelSpec& a = scenario_.models[static_cast<size_t>(s.model)];
          const ModelSpec& b = scenario_.models[static_cast<size_t>(o.model)];
          const double fa = p.partition_percent / 100, fb = other.partition_percent / 100;
          slowdown = std::max(slowdown, c[0] * a.l2_util * fa + c[1] * b.l2_util * fb + c[2] * a.dram_util * fa +
                                            c[3] * b.dram_util * fb + c[4]);
        }
      }
      served += std::min(s.rate_rps, 1000.0 * s.batch / (s.latency_ms * slowdown));
    }
  }
  if (scenario_.interference && target > 0 && served < config_.interference_pass_threshold * target) {
    const double slowdown = target / std::max(served, 1e-9);
    plan = Partition(rates, empty, gpu0.spec->sm_count, gpu0.spec->memory_mb, slowdown);
    ctx_->actions.Add(Action{ctx_->engine.Now(), "scale", -1, -1, -1, 0, 0,
                             "gpulet: interference-aware second pass, slowdown " + std::to_string(slowdown)});
  }
  // A schedule that does not fit is not applied: "if impossible, revert to previous
  // decision" (glet global_scheduler.cpp, recoverFromScheduleFailure): the old gpulets stay
  // and the targets are kept as they were, so the next epoch tries again. (At time 0 there
  // is no previous decision: what fits is applied.)
  int unplaced = 0;
  for (const GpuletPlan& p : plan) unplaced += p.gpu < 0;
  if (unplaced > 0 && ctx_->engine.Now() > 0) {
    char detail[160];
    std::snprintf(detail, sizeof detail,
                  "gpulet: schedule reverted: %d of %zu gpulets do not fit on the %d empty GPUs", unplaced,
                  plan.size(), empty);
    ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", -1, -1, -1, 0, 0, detail});
    return;
  }
  for (size_t m = 0; m < rates.size(); ++m) scheduled_target_[m] = rates[m];
  for (const GpuletPlan& p : plan) {
    std::string detail = "plan: gpulet of " + std::to_string(static_cast<int>(p.partition_percent)) + "% on planned GPU " +
                         std::to_string(p.gpu) + ",";
    for (const GpuletShare& s : p.shares) {
      char share[160];
      std::snprintf(share, sizeof share, " %s batch %d at %.1f rps, L %.2f ms;",
                    scenario_.models[static_cast<size_t>(s.model)].name.c_str(), s.batch, s.rate_rps, s.latency_ms);
      detail += share;
    }
    char duty[64];
    std::snprintf(duty, sizeof duty, " duty %.2f ms", p.duty_ms());
    ctx_->actions.Add(Action{ctx_->engine.Now(), "scale", p.shares.front().model, -1, -1, 0, 0, detail + duty});
  }
  Apply(plan);
}

void GpuletPolicy::Apply(const std::vector<GpuletPlan>& plan) {
  // Make before break: the new gpulets go on GPUs that are empty now; the old instances of
  // a model drain once all its new ones are ready.
  for (size_t m = 0; m < new_instances_.size(); ++m) {
    for (int id : new_instances_[m]) old_instances_[m].push_back(id);
    new_instances_[m].clear();
  }
  std::vector<int> empty;
  for (int g = 0; g < ctx_->cluster.gpu_count(); ++g) {
    if (ctx_->cluster.gpu(g).empty()) empty.push_back(g);
  }
  const bool warm = ctx_->engine.Now() == 0;
  for (const GpuletPlan& p : plan) {
    if (p.gpu < 0 || p.gpu >= static_cast<int>(empty.size())) {
      ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", p.shares.front().model, -1, -1, 0, 0,
                               "gpulet of " + std::to_string(p.partition_percent) + "%: no GPU free"});
      continue;
    }
    const int gpu = empty[static_cast<size_t>(p.gpu)];
    const Gpu& g = ctx_->cluster.gpu(gpu);
    const int sm = SmCountFor(g, p.partition_percent);
    const double duty = p.duty_ms();
    int partition = -1;
    for (const GpuletShare& s : p.shares) {
      // Temporal sharing inside a gpulet is round-robin by whole batches at the full
      // partition (glet); each model's share of the time, L / duty, is its quota for cost.
      const double quota = p.shares.size() == 1 ? 1.0 : std::min(1.0, s.latency_ms / duty);
      SliceRequest r{gpu, partition, partition < 0 ? sm : 0, quota,
                     scenario_.models[static_cast<size_t>(s.model)].memory_mb, s.model, /*whole_batches=*/true};
      std::string why;
      const int id = ctx_->executor.StartInstance(r, warm, &why, s.batch);
      if (id < 0) {
        ctx_->actions.Add(Action{ctx_->engine.Now(), "refused", s.model, -1, gpu, sm, quota, "gpulet: " + why});
        continue;
      }
      partition = ctx_->cluster.slice(ctx_->executor.instance(id).slice).partition;
      new_instances_[static_cast<size_t>(s.model)].push_back(id);
    }
  }
  for (int m = 0; m < static_cast<int>(new_instances_.size()); ++m) RetireOld(m);
}

void GpuletPolicy::RetireOld(int model) {
  auto& fresh = new_instances_[static_cast<size_t>(model)];
  for (int id : fresh) {
    if (ctx_->executor.instance(id).state == InstanceState::kLoading) return;
  }
  // Keep the old ones if the new schedule placed nothing for this model.
  if (fresh.empty() && scheduled_target_[static_cast<size_t>(model)] > 0) return;
  for (int id : old_instances_[static_cast<size_t>(model)]) {
    if (ctx_->executor.instance(id).accepting()) ctx_->executor.Drain(id);
  }
  old_instances_[static_cast<size_t>(model)].clear();
}

void GpuletPolicy::OnArrival(const Request& r) { router_.Route(ctx_->executor, r); }

void GpuletPolicy::OnInstanceReady(int instance) {
  const int model = ctx_->executor.instance(instance).model;
  RetireOld(model);
  router_.Dispatch(ctx_->executor, model);
}

void GpuletPolicy::OnSlotsFreed(int instance) {
  router_.Dispatch(ctx_->executor, ctx_->executor.instance(instance).model);
}

void GpuletPolicy::OnEvent(SimTime now, uint64_t) {
  // Request counts every sample interval; the rate averaged over rate_average_s.
  const size_t window_samples = std::max<size_t>(1, static_cast<size_t>(std::lround(config_.window_s / config_.sample_interval_s)));
  const size_t models = recent_.size();
  for (size_t m = 0; m < models; ++m) {
    SimTime span = 0;
    const uint64_t recent = recent_[m].Record(now, ctx_->executor.arrived(static_cast<int>(m)), &span);
    window_rates_[m].push_back(span > 0 ? static_cast<double>(recent) / SimToSeconds(span) : 0.0);
    if (window_rates_[m].size() > window_samples) window_rates_[m].pop_front();
  }
  if (now >= next_epoch_) {
    next_epoch_ = now + SecondsToSim(config_.epoch_s);
    // Target = the window's peak rate with headroom (×1.5 below 125 rps, else ×1.2).
    std::vector<double> targets(models, 0.0);
    bool change = false;
    for (size_t m = 0; m < models; ++m) {
      const double peak = *std::max_element(window_rates_[m].begin(), window_rates_[m].end());
      targets[m] = peak * (peak < config_.headroom_threshold_rps ? config_.headroom_low : config_.headroom_high);
      const double old = scheduled_target_[m];
      change = change || targets[m] > old * (1 + config_.reschedule_increase) ||
               targets[m] > old + config_.reschedule_increase_rps || targets[m] < old * (1 - config_.reschedule_decrease);
    }
    if (change) Reschedule(targets);
  }
  ctx_->engine.ScheduleAfter(SecondsToSim(config_.sample_interval_s), this);
}

}  // namespace gpuslice
