#include "sim/policies/gpulet_planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gpu/interference.h"

namespace gpuslice {

double GpuletPlan::occupancy() const {
  double sum = 0;
  for (const GpuletShare& s : shares) sum += s.latency_ms;
  return duty_ms > 0 ? sum / duty_ms : 0.0;
}

bool GpuletPlan::Serves(int model) const {
  for (const GpuletShare& s : shares) {
    if (s.model == model) return true;
  }
  return false;
}

GpuletPlanner::GpuletPlanner(const Scenario& scenario, const GpuletConfig& config, const Predictor& predictor,
                             int gpus, int gpu_sms, long gpu_memory_mb)
    : scenario_(scenario),
      config_(config),
      predictor_(predictor),
      gpus_(gpus),
      gpu_sms_(gpu_sms),
      gpu_memory_mb_(gpu_memory_mb) {}

double GpuletPlanner::LatencyMs(int model, double percent, int batch) const {
  const int sm = std::max(1, static_cast<int>(std::lround(percent / 100.0 * gpu_sms_)));
  return predictor_.PredictMs(model, batch, SliceShape{sm, gpu_sms_, 1.0}) * config_.latency_slack;
}

double GpuletPlanner::GpuBudgetMs(int model) const {
  const ModelSpec& spec = scenario_.models[static_cast<size_t>(model)];
  return spec.slo_ms - spec.outside_gpu_ms();
}

std::vector<int> GpuletPlanner::Order(const std::vector<double>& rates, const std::vector<int>& models) const {
  // "sort(session.begin(), session.end(), cmp_task_dsc)" (elasticPartitioning): despite its
  // name the comparator orders by rate × SLO ascending ("a.request_rate * a.SLO <
  // b.request_rate * b.SLO"), ties by id descending.
  std::vector<int> order;
  for (int m : models) {
    if (rates[static_cast<size_t>(m)] > 0) order.push_back(m);
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const double ka = rates[static_cast<size_t>(a)] * scenario_.models[static_cast<size_t>(a)].slo_ms;
    const double kb = rates[static_cast<size_t>(b)] * scenario_.models[static_cast<size_t>(b)].slo_ms;
    return ka < kb || (ka == kb && a > b);
  });
  return order;
}

bool GpuletPlanner::Full(const std::vector<double>& rates, GpuletLayout* out, std::string* why) const {
  // FullRepartition (global_scheduler.cpp): the state cleared, every task scheduled.
  out->clear();
  Draft draft = MakeDraft(*out);
  std::vector<int> all;
  for (int m = 0; m < static_cast<int>(rates.size()); ++m) all.push_back(m);
  for (int m : Order(rates, all)) {
    if (!AddModel(m, rates[static_cast<size_t>(m)], draft, why)) return false;
  }
  return true;
}

bool GpuletPlanner::Incremental(const GpuletLayout& current, const std::vector<double>& rates,
                                const std::vector<int>& changed, GpuletLayout* out, std::string* why) const {
  // addModeltoSchedule, a task "previously scheduled": "Retrieve and clear nodes": its
  // shares leave every gpulet; a gpulet it held alone becomes free space, one it shared
  // keeps its other models and their duty cycle.
  out->clear();
  std::vector<char> is_changed(rates.size(), 0);
  for (int m : changed) is_changed[static_cast<size_t>(m)] = 1;
  for (const GpuletPlan& plan : current) {
    GpuletPlan kept = plan;
    kept.shares.clear();
    for (const GpuletShare& s : plan.shares) {
      if (!is_changed[static_cast<size_t>(s.model)]) kept.shares.push_back(s);
    }
    if (!kept.shares.empty()) out->push_back(kept);
  }
  Draft draft = MakeDraft(*out);
  for (int m : Order(rates, changed)) {
    if (!AddModel(m, rates[static_cast<size_t>(m)], draft, why)) return false;
  }
  return true;
}

bool GpuletPlanner::AddModel(int m, double rate, Draft& draft, std::string* why) const {
  const ModelSpec& spec = scenario_.models[static_cast<size_t>(m)];
  const double budget = GpuBudgetMs(m);
  const std::vector<double>& sizes = config_.partitions_percent;
  // initSaturateTrp: every partition's saturated throughput at the largest batch b with
  // 2·L(b, p) <= SLO. getMaxReturnPart (scheduler_incremental.cpp:650-690): over adjacent
  // sizes (p_low, p_high), never the largest pair, the p_high of the best marginal gain
  // (T_high - T_low) / (p_high - p_low) among those gaining at least 5% (T_high / T_low >=
  // 1.05); the smallest size when none.
  std::vector<double> sat_tput(sizes.size(), 0.0), sat_latency(sizes.size(), 0.0);
  std::vector<int> sat_batch(sizes.size(), 0);
  for (size_t i = 0; i < sizes.size(); ++i) {
    for (int b = spec.max_batch; b >= 1; --b) {
      const double l = LatencyMs(m, sizes[i], b);
      if (2 * l > budget && b > 1) continue;
      sat_batch[i] = b, sat_latency[i] = l;
      sat_tput[i] = spec.PodRps(1000.0 * b / l);  // a pod's CPU stage may bound it
      break;
    }
  }
  size_t chosen = 0;
  double best_return = 0;
  for (size_t i = 0; i + 2 < sizes.size(); ++i) {  // pairs (i, i + 1), never (n - 2, n - 1)
    const double low = sat_tput[i], high = sat_tput[i + 1];
    if (low <= 0 || high / low < 1 + config_.marginal_gain) continue;
    const double ret = (high - low) / (sizes[i + 1] - sizes[i]);
    if (ret > best_return) best_return = ret, chosen = i + 1;
  }
  const bool can_saturate = 2 * sat_latency[chosen] <= budget;
  double remaining = rate;
  bool has_saturated = false;
  // readjust: saturated gpulets while the rate left exceeds one's throughput.
  while (can_saturate && remaining > sat_tput[chosen]) {
    GpuletPlan plan{-1, sizes[chosen], {{m, sat_batch[chosen], sat_tput[chosen], sat_latency[chosen]}}, sat_latency[chosen]};
    const double got = Place(plan, /*saturated=*/true, draft);
    if (got <= 0) {
      char text[160];
      std::snprintf(text, sizeof text, "%s: a saturated gpulet of %.0f%% (%.1f rps) fits on no GPU",
                    spec.name.c_str(), sizes[chosen], sat_tput[chosen]);
      *why = text;
      return false;
    }
    remaining -= got;
    has_saturated = true;
  }
  // "if(rate <=TRP_SLACK) return;" (scheduler_incremental.cpp:196): a leftover of at most
  // 15 rps gets no gpulet. Here only beside saturated gpulets of the model, so that a
  // model of at most 15 rps is still served (glet would leave it unscheduled).
  const double floor_rps = has_saturated ? config_.leftover_slack_rps : 1e-9;
  if (remaining <= floor_rps) return true;
  // allocateTimeShare: the residual first joins gpulets of other models with spare duty.
  TimeShare(m, &remaining, floor_rps, draft);
  if (remaining <= floor_rps) return true;
  // The residual gpulet: the smallest partition with a batch that meets the SLO at this
  // rate, L(b, p) + b / rate <= SLO and b / L(b, p) >= rate; its duty cycle b / rate.
  for (double p : sizes) {
    for (int b = spec.max_batch; b >= 1; --b) {
      const double l = LatencyMs(m, p, b);
      if (l + 1000.0 * b / remaining > budget || 1000.0 * b / l < remaining) continue;
      GpuletPlan plan{-1, p, {{m, b, remaining, l}}, 1000.0 * b / remaining};
      if (Place(plan, /*saturated=*/false, draft) > 0) return true;
      break;  // this size fits nowhere; a larger one will not either
    }
  }
  // Nothing meets the SLO at this rate where it fits: the best effort is a saturated-size
  // (else whole) gpulet, serving what it can.
  const double p = can_saturate ? sizes[chosen] : sizes.back();
  const int b = can_saturate ? sat_batch[chosen] : 1;
  const double l = LatencyMs(m, p, b);
  GpuletPlan plan{-1, p, {{m, b, remaining, l}}, l};
  if (Place(plan, /*saturated=*/true, draft) > 0) return true;
  char text[160];
  std::snprintf(text, sizeof text, "%s: the residual gpulet for %.1f rps fits on no GPU", spec.name.c_str(), remaining);
  *why = text;
  return false;
}

void GpuletPlanner::TimeShare(int m, double* remaining, double floor_rps, Draft& draft) const {
  GpuletLayout& layout = draft.layout;
  const std::vector<GpuUse>& use = draft.use;
  const ModelSpec& spec = scenario_.models[static_cast<size_t>(m)];
  const double memory_cap = config_.memory_fraction * static_cast<double>(gpu_memory_mb_);
  // Candidates: "node_ptr->occupancy < 1 && node_ptr->vTaskList.size() < _numMaxModel",
  // memory permitting, in occupancy descending (cmp_nodeptr_occu_dsc). A saturated gpulet
  // (occupancy 1) is never one.
  // The layout gains no gpulet here (merges change shares only), so each GPU's gpulets
  // keep their indices. As in glet, the memory test is made once, on the candidates.
  std::vector<size_t> candidates;
  for (size_t i = 0; i < layout.size(); ++i) {
    const GpuletPlan& node = layout[i];
    if (node.occupancy() >= 1.0 - 1e-9 || static_cast<int>(node.shares.size()) >= config_.max_models_per_gpulet) continue;
    if (MemoryMb(draft, node.gpu) + static_cast<double>(spec.memory_mb) > memory_cap) continue;
    candidates.push_back(i);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](size_t a, size_t b) { return layout[a].occupancy() > layout[b].occupancy(); });
  while (*remaining > floor_rps) {
    bool found = false;
    for (size_t i : candidates) {
      GpuletPlan& node = layout[i];
      // "if(checkContain(task.id, node_ptr)) continue;": never beside its own model.
      if (node.Serves(m) || node.occupancy() >= 1.0) continue;
      if (static_cast<int>(node.shares.size()) >= config_.max_models_per_gpulet) continue;
      // "int max_batch = int((node_ptr->duty_cycle) * (task.request_rate / 1000.0))",
      // at most the model's largest batch; then the largest b down from it with
      // "duty_cycle + latency < task.SLO && (latency / duty_cycle) < (1.0 - occupancy)",
      // duty_cycle = b / rate in whole ms ("int duty_cycle").
      const int max_b = std::min(spec.max_batch, static_cast<int>(node.duty_ms * *remaining / 1000.0));
      if (max_b == 0) continue;
      int b = max_b;
      double duty = 0, latency = 0;
      for (; b > 0; --b) {
        duty = std::floor(1000.0 * b / *remaining);
        latency = LatencyMs(m, node.partition_percent, b);
        if (duty > 0 && duty + latency < GpuBudgetMs(m) && latency / duty < 1.0 - node.occupancy()) break;
      }
      if (b == 0 || duty > node.duty_ms) continue;
      // After a merge every other share's batch is re-derived from the new duty cycle
      // ("task_ptr->batch_size = int(duty_cycle / (1000.0 / task_ptr->request_rate))", at
      // least 1, at most the largest); the node fits if Σ L / duty <= 1 and duty + Σ L
      // <= every SLO.
      GpuletPlan trial = node;
      double latency_sum = latency;
      for (GpuletShare& s : trial.shares) {
        const int largest = scenario_.models[static_cast<size_t>(s.model)].max_batch;
        s.batch = std::clamp(static_cast<int>(duty * s.rate_rps / 1000.0), 1, largest);
        s.latency_ms = LatencyMs(s.model, trial.partition_percent, s.batch);
        latency_sum += s.latency_ms;
      }
      if (latency_sum / duty > 1.0) continue;
      bool slo_ok = latency_sum + duty <= GpuBudgetMs(m);
      for (const GpuletShare& s : trial.shares) slo_ok = slo_ok && latency_sum + duty <= GpuBudgetMs(s.model);
      if (!slo_ok) continue;
      const double served = std::min(*remaining, 1000.0 * b / duty);
      trial.shares.push_back({m, b, served, latency});
      trial.duty_ms = duty;
      // The co-located gpulet, if any, must still hold with the new batches beside it.
      const GpuletPlan* neighbour = nullptr;
      size_t neighbour_index = 0;
      const GpuUse* on_gpu = node.gpu >= 0 && node.gpu < gpus_ ? &use[static_cast<size_t>(node.gpu)] : nullptr;
      if (on_gpu != nullptr && on_gpu->count == 2) {
        neighbour_index = on_gpu->last == i ? on_gpu->first : on_gpu->last;
        neighbour = &layout[neighbour_index];
      } else if (on_gpu == nullptr || on_gpu->count > 2) {  // not indexed, or not made by Place (two per GPU)
        for (size_t j = 0; j < layout.size(); ++j) {
          if (j != i && layout[j].gpu == node.gpu) neighbour = &layout[j], neighbour_index = j;
        }
      }
      if (!Interfere(trial, neighbour, false)) continue;
      GpuletPlan neighbour_after;
      if (neighbour != nullptr) {
        neighbour_after = *neighbour;
        if (!Interfere(neighbour_after, &trial, neighbour->occupancy() >= 1.0 - 1e-9)) continue;
        layout[neighbour_index] = neighbour_after;
      }
      node = trial;
      *remaining = std::max(0.0, *remaining - 1000.0 * b / duty);
      found = true;
      break;
    }
    if (!found) return;
  }
}

GpuletPlanner::Draft GpuletPlanner::MakeDraft(GpuletLayout& layout) const {
  Draft draft{layout, std::vector<GpuUse>(static_cast<size_t>(gpus_))};
  for (size_t j = 0; j < layout.size(); ++j) {
    const GpuletPlan& p = layout[j];
    if (p.gpu < 0 || p.gpu >= gpus_) continue;
    GpuUse& u = draft.use[static_cast<size_t>(p.gpu)];
    if (u.count++ == 0) u.first = j;
    u.last = j;
    u.used_percent += p.partition_percent;
  }
  return draft;
}

double GpuletPlanner::MemoryMb(const Draft& draft, int gpu) const {
  double mb = 0;
  auto add = [&](const GpuletPlan& p) {
    mb += config_.context_memory_mb;
    for (const GpuletShare& s : p.shares) mb += static_cast<double>(scenario_.models[static_cast<size_t>(s.model)].memory_mb);
  };
  if (gpu >= 0 && gpu < gpus_ && draft.use[static_cast<size_t>(gpu)].count <= 2) {
    const GpuUse& u = draft.use[static_cast<size_t>(gpu)];
    if (u.count >= 1) add(draft.layout[u.first]);
    if (u.count == 2) add(draft.layout[u.last]);
    return mb;
  }
  for (const GpuletPlan& p : draft.layout) {
    if (p.gpu == gpu) add(p);
  }
  return mb;
}

double GpuletPlanner::Place(GpuletPlan plan, bool saturated, Draft& draft) const {
  GpuletLayout& layout = draft.layout;
  const double memory_cap = config_.memory_fraction * static_cast<double>(gpu_memory_mb_);
  double plan_mb = config_.context_memory_mb;
  for (const GpuletShare& s : plan.shares) plan_mb += static_cast<double>(scenario_.models[static_cast<size_t>(s.model)].memory_mb);
  for (int g = 0; g < gpus_; ++g) {
    // A free slot: an empty GPU, split into p and 100 - p, or the rest of a GPU that one
    // gpulet has split (at most two per GPU).
    GpuUse& u = draft.use[static_cast<size_t>(g)];
    const int count = u.count;
    const size_t neighbour_index = u.last;
    if (count >= 2 || u.used_percent + plan.partition_percent > 100 + 1e-9) continue;
    if (MemoryMb(draft, g) + plan_mb > memory_cap) continue;
    GpuletPlan trial = plan;
    trial.gpu = g;
    const GpuletPlan* neighbour = count == 1 ? &layout[neighbour_index] : nullptr;
    // checkNeedtoRevert: a gpulet placed beside another is reverted when the pair's
    // interference makes either miss its SLO (per co-located pair, gpu-lets' model).
    if (!Interfere(trial, neighbour, saturated)) continue;
    if (neighbour != nullptr) {
      GpuletPlan neighbour_after = *neighbour;
      if (!Interfere(neighbour_after, &trial, neighbour->occupancy() >= 1.0 - 1e-9)) continue;
      layout[neighbour_index] = neighbour_after;
    }
    layout.push_back(trial);
    if (u.count++ == 0) u.first = layout.size() - 1;
    u.last = layout.size() - 1;
    u.used_percent += trial.partition_percent;
    const GpuletShare& s = trial.shares.front();
    if (!saturated) return s.rate_rps;
    return std::min(s.rate_rps, scenario_.models[static_cast<size_t>(s.model)].PodRps(1000.0 * s.batch / s.latency_ms));
  }
  return 0;
}

bool GpuletPlanner::Interfere(GpuletPlan& plan, const GpuletPlan* neighbour, bool saturated) const {
  const auto& c = scenario_.interference_coefficients;
  auto slowdown = [&](const GpuletShare& s, int batch) {
    if (neighbour == nullptr || !scenario_.interference) return 1.0;
    const ModelSpec& self = scenario_.models[static_cast<size_t>(s.model)];
    double worst = 1.0;
    for (const GpuletShare& o : neighbour->shares) {
      const ModelSpec& other = scenario_.models[static_cast<size_t>(o.model)];
      worst = std::max(worst, GpuletSlowdown(c, {self.L2Util(batch), self.DramUtil(batch), plan.partition_percent / 100},
                                            {other.L2Util(o.batch), other.DramUtil(o.batch),
                                             neighbour->partition_percent / 100}));
    }
    return worst;
  };
  if (saturated) {
    // A saturated gpulet keeps the largest batch with 2·L <= SLO under the slowdown
    // (adjustSatNode lowers the batch); its duty is its latency.
    GpuletShare& s = plan.shares.front();
    const double budget = GpuBudgetMs(s.model);
    for (int b = s.batch; b >= 1; --b) {
      const double l = LatencyMs(s.model, plan.partition_percent, b) * slowdown(s, b);
      if (2 * l > budget && b > 1) continue;
      if (2 * l > budget && 2 * LatencyMs(s.model, plan.partition_percent, s.batch) <= budget) return false;
      s.batch = b, s.latency_ms = l, plan.duty_ms = l;
      s.rate_rps = std::min(s.rate_rps, scenario_.models[static_cast<size_t>(s.model)].PodRps(1000.0 * b / l));
      return true;
    }
    return false;
  }
  double sum = 0;
  for (GpuletShare& s : plan.shares) {
    s.latency_ms = LatencyMs(s.model, plan.partition_percent, s.batch) * slowdown(s, s.batch);
    sum += s.latency_ms;
  }
  if (sum > plan.duty_ms + 1e-9) return false;
  for (const GpuletShare& s : plan.shares) {
    if (plan.duty_ms + (plan.shares.size() == 1 ? s.latency_ms : sum) > GpuBudgetMs(s.model) + 1e-9) return false;
  }
  return true;
}

}  // namespace gpuslice
