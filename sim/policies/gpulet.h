// gpulet: spatio-temporal sharing as in gpu-lets (Choi et al., USENIX ATC'22;
// casys-kaist/glet). Facts and constants: reference/PAPERS.md; each rule is restated next
// to its code in gpulet.cc.
//
// A gpulet is a partition of a GPU's SMs from a fixed set of sizes (default 20, 40, 50, 60,
// 80, 100%), at most two per GPU (p and 100 − p). The scheduler, every epoch, turns the
// models' target rates into gpulets by elastic partitioning, following glet's code
// (scheduler_incremental.cpp; the rules are quoted beside their code):
//   1. models in order of rate × SLO ascending (glet's comparator, despite its name);
//   2. saturated gpulets: every size's throughput at the largest batch b with
//      2·L(b, p) <= SLO; the size is getMaxReturnPart's: the larger of the adjacent pair of
//      best marginal gain (ΔT / Δp) among pairs gaining at least 5%, never the largest pair,
//      else the smallest size; emitted while the remaining rate exceeds its throughput;
//   3. a residual gpulet for the rest (none for a leftover of at most 15 rps beside
//      saturated gpulets, TRP_SLACK): the smallest partition with a batch b such that
//      L(b, p) + b / rate <= SLO and b / L(b, p) >= rate;
//   4. placement: a residual first tries to time-share an existing residual gpulet serving
//      other models (at most 3; never a saturated one nor one of its own model; duty = max
//      over its models of max(b/rate, L); Σ L / duty <= 1 and duty + Σ L <= every SLO),
//      then the free rest of a GPU that one gpulet has split, then an empty GPU; memory:
//      Σ (model + 1.2 GB context per gpulet) <= 90% of the GPU;
//   5. if the scheduled throughput is below 0.85 × the target, it is redone with the
//      interference factor applied to every latency (the interference-aware second pass).
// Models sharing a gpulet take turns by whole batches at the full partition (glet's
// temporal sharing), not by token quotas. Latency L comes from the policy's predictor
// (default: the profiled table), × 1.1, and a pod's CPU stage bounds its throughput.
// Rates: request counts every 0.5 s (averaged over `rate_average_s`), the target = the
// window's (30 s) maximum × 1.5 below 125 rps, else × 1.2 (the first schedule's targets too);
// a new schedule when the target rises 5% or 10 rps, or falls 10%. A schedule that does not
// fit is not applied (glet reverts to its previous decision). Reconfiguration is
// make-before-break: the new gpulets go on empty GPUs and the old ones of a model drain when
// all its new ones are ready.
// Not yet as glet (issue 12): re-scheduling re-plans every model on the empty GPUs instead of
// only the models whose rate changed on the current state; a GPU is never added on failure
// (the cluster is fixed); batches are not re-derived after a merge; interference is one
// factor for all pairs.
#ifndef GPUSLICE_SIM_POLICIES_GPULET_H_
#define GPUSLICE_SIM_POLICIES_GPULET_H_

#include <deque>
#include <vector>

#include "sim/policies/arrival_window.h"
#include "sim/policies/policy.h"
#include "sim/policies/routing.h"

namespace gpuslice {

struct GpuletConfig {
  std::vector<double> partitions_percent{20, 40, 50, 60, 80, 100};
  int max_models_per_gpulet = 3;
  double latency_slack = 1.1;
  double marginal_gain = 0.05;
  double leftover_slack_rps = 15;  // TRP_SLACK
  double sample_interval_s = 0.5;
  double rate_average_s = 2.0;
  double epoch_s = 20;
  double window_s = 30;
  double headroom_low = 1.5;
  double headroom_high = 1.2;
  double headroom_threshold_rps = 125;
  double reschedule_increase = 0.05;
  double reschedule_increase_rps = 10;
  double reschedule_decrease = 0.10;
  double context_memory_mb = 1200;
  double memory_fraction = 0.9;
  double interference_pass_threshold = 0.85;
  PredictorSpec predictor{"profile", 1, 1};
};

// One model's share of a planned gpulet.
struct GpuletShare {
  int model;
  int batch;
  double rate_rps;
  double latency_ms;
};

struct GpuletPlan {
  double partition_percent;
  std::vector<GpuletShare> shares;
  int gpu = -1;
  double duty_ms() const;
};

class GpuletPolicy final : public Policy, public EventHandler {
 public:
  GpuletPolicy(const JsonObject& config, const Scenario& scenario);

  void Start(PolicyContext& ctx) override;
  void OnArrival(const Request& request) override;
  void OnInstanceReady(int instance) override;
  void OnSlotsFreed(int instance) override;
  void OnEvent(SimTime now, uint64_t tag) override;

  // The elastic partitioning of `rates` (per model) onto `gpus` empty GPUs of `gpu_sms` SMs
  // and `gpu_memory_mb`; plans with gpu = -1 did not fit. Public for tests.
  std::vector<GpuletPlan> Partition(const std::vector<double>& rates, int gpus, int gpu_sms, long gpu_memory_mb,
                                    double slowdown) const;

  void SetPredictorForTest(std::unique_ptr<Predictor> p) { predictor_ = std::move(p); }

 private:
  double LatencyMs(int model, double partition_percent, int batch, double slowdown, int gpu_sms) const;
  std::vector<double> InitialRates() const;
  void Reschedule(const std::vector<double>& rates);
  void Apply(const std::vector<GpuletPlan>& plan);
  void RetireOld(int model);

  GpuletConfig config_;
  const Scenario& scenario_;
  LeastLoadedRouter router_;
  PolicyContext* ctx_ = nullptr;
  std::unique_ptr<Predictor> predictor_;
  std::vector<ArrivalWindow> recent_;            // per model: the rate average's window
  std::vector<std::deque<double>> window_rates_; // rate samples in the window
  std::vector<double> scheduled_target_;
  std::vector<std::vector<int>> old_instances_;  // per model: instances of the previous schedule
  std::vector<std::vector<int>> new_instances_;  // per model: instances of the current schedule
  SimTime next_epoch_ = 0;
  double initial_rate_rps_ = -1;  // -1: from the workload
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_GPULET_H_
