// gpulet: spatio-temporal sharing as in gpu-lets (Choi et al., USENIX ATC'22;
// casys-kaist/glet). Facts and constants: reference/PAPERS.md. The scheduling rules are
// GpuletPlanner's (gpulet_planner.h); this file is glet's global scheduler around them
// (src/service/global_scheduler.cpp), each rule restated next to its code in gpulet.cc:
//   rates     request counts every 0.5 s, averaged over `rate_average_s`; a model's target
//             is the peak of the last 30 s × 1.5 below 125 rps, else × 1.2 (the first
//             schedule's too);
//   epochs    every 20 s, setupTasks: a model whose target rose 5% or 10 rps is re-planned
//             incrementally, on the gpulets in place; a fall of 10% (or a model going
//             quiet) flushes: a full repartition of every model. An incremental schedule
//             that fails falls back to a full one; a full one that fails is not applied
//             (glet reverts to its previous decision and targets);
//   switch    a gpulet whose GPU, size and models are unchanged keeps its instances (batch
//             and shares updated in place). New gpulets start where their SMs are free; the
//             gpulets they replace drain once every new gpulet of their models is ready.
//             A new gpulet whose SMs are still held by a gpulet being replaced waits: that
//             one drains at once and the new one starts when it is gone.
// Models sharing a gpulet take turns by whole batches at the full partition (glet's
// temporal sharing), not by token quotas; each one's share L / duty is its quota for cost.
// Requests go to a model's ready gpulets in proportion to their planned rates (glet's
// weighted round-robin load balancer), not to the least loaded.
// Where this departs from glet (each also noted at its code): glet loads a new gpulet beside
// the old one under MPS and switches routing at the next epoch, where a partition here is
// exclusive and serves once loaded; glet's SCALE build grows the GPUs it schedules on one at
// a time, where this plans on every GPU of the cluster from the start (the same placement:
// the lowest-numbered GPU that fits, so unused GPUs stay empty and cost nothing).
#ifndef GPUSLICE_SIM_POLICIES_GPULET_H_
#define GPUSLICE_SIM_POLICIES_GPULET_H_

#include <deque>
#include <memory>
#include <vector>

#include "sim/policies/arrival_window.h"
#include "sim/policies/gpulet_planner.h"
#include "sim/policies/policy.h"
#include "sim/policies/routing.h"
#include "sim/util/buckets.h"

namespace gpuslice {

class GpuletPolicy final : public Policy, public EventHandler {
 public:
  GpuletPolicy(const JsonObject& config, const Scenario& scenario);

  void Start(PolicyContext& ctx) override;
  void OnArrival(const Request& request) override;
  void OnInstanceReady(int instance) override;
  void OnSlotsFreed(int instance) override;
  void OnInstanceGone(int instance) override;
  void OnEvent(SimTime now, uint64_t tag) override;

  // A full repartition of `rates` onto `gpus` empty GPUs of `gpu_sms` SMs and
  // `gpu_memory_mb`. Returns what fitted; *ok tells whether everything did. For tests.
  GpuletLayout Partition(const std::vector<double>& rates, int gpus, int gpu_sms, long gpu_memory_mb,
                         bool* ok = nullptr) const;
  // The incremental re-schedule of `changed` on `current`, same GPUs. For tests.
  bool Increment(const GpuletLayout& current, const std::vector<double>& rates, const std::vector<int>& changed,
                 int gpus, int gpu_sms, long gpu_memory_mb, GpuletLayout* out) const;
  // The gpulets in place (the last schedule applied).
  const GpuletLayout& layout() const { return layout_; }

  void SetPredictorForTest(std::unique_ptr<Predictor> p) { predictor_ = std::move(p); }

 private:
  // A gpulet started on the cluster: one instance per share (-1 where refused).
  struct Running {
    GpuletPlan plan;
    std::vector<int> instances;
    bool replaced = false;  // not in the current schedule: drains when its successors are ready
    bool draining = false;
  };

  std::vector<double> InitialRates() const;
  // The ready instance of `model` next in weighted round-robin by planned rate; -1 if none.
  int PickWeighted(int model);
  // Plans (incrementally for `changed` unless `flush`) and applies; false if reverted.
  bool Reschedule(const std::vector<double>& targets, const std::vector<int>& changed, bool flush);
  void Apply(const GpuletLayout& layout);
  void UpdateInPlace(Running& running, const GpuletPlan& plan);
  // Forgets gone gpulets, starts pending ones, drains replaced ones; re-entrant calls (from
  // the executor's callbacks) are folded into the running one.
  void Settle();
  void StartPending();
  void DrainReplaced();
  // Marks a gpulet draining and queues its instances for Settle to drain.
  void DrainNow(Running& running, const char* why);
  // running_'s indices by GPU, in running_ order.
  Buckets<uint32_t> RunningByGpu() const;

  GpuletConfig config_;
  const Scenario& scenario_;
  LeastLoadedRouter router_;
  int container_concurrency_ = 0;
  std::vector<double> credit_;  // per instance: its smooth weighted round-robin credit
  PolicyContext* ctx_ = nullptr;
  std::unique_ptr<Predictor> predictor_;
  std::vector<ArrivalWindow> recent_;            // per model: the rate average's window
  std::vector<std::deque<double>> window_rates_; // rate samples in the window
  std::vector<double> scheduled_target_;         // mPerTaskTgtRate
  GpuletLayout layout_;                          // the schedule applied
  std::vector<Running> running_;
  // Per model, the (running_ index, share index) pairs serving it, in running_ order; rebuilt
  // by PickWeighted when running_ gained, lost or re-assigned a gpulet (shares_dirty_).
  Buckets<std::pair<uint32_t, uint32_t>> shares_by_model_;
  bool shares_dirty_ = true;
  std::vector<GpuletPlan> pending_;              // planned, waiting for their SMs
  std::vector<int> to_drain_;
  bool settling_ = false, unsettled_ = false;
  SimTime next_epoch_ = 0;
  double initial_rate_rps_ = -1;  // -1: from the workload
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_GPULET_H_
