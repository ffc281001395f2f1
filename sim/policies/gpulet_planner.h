// GpuletPlanner: gpu-lets' scheduler (Choi et al., ATC'22; casys-kaist/glet,
// src/scheduler/scheduler_incremental.cpp), the pure part of the gpulet policy: from target
// rates, and the gpulets in place, to the next set of gpulets. It holds no simulation state,
// so its rules can be checked on hand-built layouts. Each rule is quoted beside its code in
// gpulet_planner.cc.
//
// A gpulet is a partition of one GPU's SMs from a fixed set of sizes, at most two per GPU
// (p and at most 100 − p). Models sharing a gpulet take turns by whole batches within its
// duty cycle; a gpulet's occupancy is Σ latency / duty (1 for a saturated one).
//   Full        glet's FullRepartition: every model with a rate, in glet's order, onto
//               empty GPUs;
//   Incremental glet's incremental path: the gpulets of the models whose rate changed are
//               taken out of the current layout and those models placed again, the rest
//               untouched.
// Both fail, changing nothing the caller holds, when a gpulet does not fit.
// Where this departs from glet's code (each also noted at its code):
//  - placement: a model's gpulets go, in both paths, to the first GPU with room (an empty
//    GPU split p / 100 − p, or the rest beside one gpulet). glet's incremental path fills the
//    freed and empty nodes at their sizes, largest first, splitting a whole-GPU node only in
//    a full repartition (readjust with _useRepartition), which can give a small residual a
//    whole GPU;
//  - a residual tries to time-share before it takes a gpulet of its own (glet: readjust,
//    then mergeResidue, then allocateTimeShare);
//  - interference: when a placement slows the co-located gpulet, that gpulet's batch is
//    lowered (adjustSatNode) but the throughput it loses is not re-planned (glet adds it to
//    the task being scheduled);
//  - the SLO a gpulet must meet is the model's SLO less its time outside the GPU;
//  - a model of at most TRP_SLACK (15 rps) with no saturated gpulet is still served.
#ifndef GPUSLICE_SIM_POLICIES_GPULET_PLANNER_H_
#define GPUSLICE_SIM_POLICIES_GPULET_PLANNER_H_

#include <string>
#include <vector>

#include "gpu/predictor.h"
#include "sim/scenario.h"

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
  bool incremental = true;  // false: every re-schedule is a full repartition
  PredictorSpec predictor{"profile", 1, 1};
};

// One model's share of a gpulet.
struct GpuletShare {
  int model;
  int batch;
  double rate_rps;    // what the share is planned to serve
  double latency_ms;  // of one batch, interference included
};

struct GpuletPlan {
  int gpu = -1;
  double partition_percent = 0;
  std::vector<GpuletShare> shares;
  double duty_ms = 0;  // a saturated gpulet: its latency; else the turn every share gets a batch in
  double occupancy() const;  // Σ latency / duty
  bool Serves(int model) const;
};

using GpuletLayout = std::vector<GpuletPlan>;

class GpuletPlanner {
 public:
  // REQUIRES: `predictor` outlives the planner; gpus >= 0.
  GpuletPlanner(const Scenario& scenario, const GpuletConfig& config, const Predictor& predictor, int gpus,
                int gpu_sms, long gpu_memory_mb);

  // Plans every model with rates[m] > 0 on empty GPUs. On failure returns false, sets *why
  // and leaves *out with what fitted.
  bool Full(const std::vector<double>& rates, GpuletLayout* out, std::string* why) const;
  // Re-plans the models in `changed` at rates[m] on `current` with their gpulets taken out.
  // On failure returns false and sets *why; *out is then meaningless.
  bool Incremental(const GpuletLayout& current, const std::vector<double>& rates, const std::vector<int>& changed,
                   GpuletLayout* out, std::string* why) const;

  // Solo latency (ms) of `model` at batch `batch` on a gpulet of `percent`, with the slack.
  double LatencyMs(int model, double percent, int batch) const;

 private:
  // glet's order: rate × SLO ascending, ties by id descending.
  std::vector<int> Order(const std::vector<double>& rates, const std::vector<int>& models) const;
  // What the gpulets of one GPU hold.
  struct GpuUse {
    int count = 0;                // gpulets on the GPU
    double used_percent = 0;      // Σ their partitions
    size_t first = 0, last = 0;   // layout indices of its first and last gpulet (count >= 1)
  };
  // A layout being planned, with each GPU's use kept beside it (so that no step scans the
  // layout per GPU). A gpulet on a GPU outside [0, gpus) (a hand-built layout) is not in
  // `use`; the lookups below scan the layout for such a GPU, as every lookup once did.
  struct Draft {
    GpuletLayout& layout;
    std::vector<GpuUse> use;  // by GPU
  };
  Draft MakeDraft(GpuletLayout& layout) const;
  // Σ (model + the context of every gpulet), as glet's doesFitMemLimit counts a GPU's memory,
  // summed in layout order: the context, then the models, gpulet by gpulet.
  double MemoryMb(const Draft& draft, int gpu) const;
  bool AddModel(int model, double rate, Draft& draft, std::string* why) const;
  // Time-shares residual gpulets of other models (allocateTimeShare) while more than
  // `floor_rps` is left; lowers *remaining_rps by what it placed.
  void TimeShare(int model, double* remaining_rps, double floor_rps, Draft& draft) const;
  // Puts `plan` on the first GPU with room for it (a free GPU, or the rest beside one
  // gpulet), memory and interference permitting; returns the throughput it gets there
  // (rps), 0 if it fits nowhere.
  double Place(GpuletPlan plan, bool saturated, Draft& draft) const;
  // Rewrites `plan`'s latencies for running beside `neighbour` (nullptr: alone); false if a
  // share then misses its SLO or the gpulet its duty.
  bool Interfere(GpuletPlan& plan, const GpuletPlan* neighbour, bool saturated) const;
  double GpuBudgetMs(int model) const;  // the SLO less the time outside the GPU

  const Scenario& scenario_;
  const GpuletConfig& config_;
  const Predictor& predictor_;
  int gpus_, gpu_sms_;
  long gpu_memory_mb_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_GPULET_PLANNER_H_
