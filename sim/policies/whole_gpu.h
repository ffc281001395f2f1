// whole-gpu: the mainstream serverless platform, KServe on Knative.
//
// Each instance owns one whole GPU (all SMs, quota 1). Requests go to the ready instance
// with the fewest in flight, never past `container_concurrency`; what no instance can take
// waits in the activator's buffer. Knative's Pod Autoscaler (KPA) sets the replica count
// from the observed concurrency, as knative/serving pkg/autoscaler/scaling/autoscaler.go
// (Scale) does it, with config-autoscaler's defaults (the rules are quoted in the .cc):
//
//   target per pod    = target × target_utilization; `target` defaults to
//                       container_concurrency when that is set, else 100 (KServe's
//                       `scaleTarget` is `target`)
//   every tick (2 s): stable concurrency = mean over the stable window (60 s),
//                     panic concurrency  = mean over the panic window (10% of stable = 6 s)
//   dspc, dppc        = ceil(stable or panic concurrency / target per pod), each clamped to
//                       [floor(ready / max_scale_down_rate (2)), ceil(ready × max_scale_up_rate (1000))]
//   panic mode        : entered or extended when dppc / max(1, ready) ≥ 200% (the rounded
//                       count); in panic the count is max(dspc, dppc) and never goes down;
//                       it ends at the first tick strictly more than a stable window after the
//                       last tick over the threshold
//   scale to zero     : when desired is 0 for scale_to_zero_grace_period_s (30 s) and
//                       min_replicas is 0; the activator wakes a model with no instance at
//                       its first request, without waiting for a tick
//   bounds            : min_replicas, max_replicas (0 = no bound), initial_replicas at start
//
// Not modelled: the activator's own capacity and probing delay, the queue-proxy's breaker
// queue depth, scale-down delay, per-revision metrics aggregation over several autoscaler
// replicas, and request timeouts beyond the model's queue_timeout_s.
//
// With `autoscaling: false` the replica count stays at initial_replicas; with `warm_start:
// true` the initial replicas are ready at time 0. Both together give a fixed pool of
// servers, the setting of the queueing-theory validation tests.
#ifndef GPUSLICE_SIM_POLICIES_WHOLE_GPU_H_
#define GPUSLICE_SIM_POLICIES_WHOLE_GPU_H_

#include <vector>

#include "sim/policies/policy.h"
#include "sim/policies/routing.h"

namespace gpuslice {

struct WholeGpuConfig {
  int container_concurrency = 0;   // hard limit of requests in flight per instance; 0 = none
  double target = 0;               // soft concurrency target per instance; 0 = default
  double target_utilization = 0.7;
  double tick_s = 2.0;
  double stable_window_s = 60.0;
  double panic_window_percent = 10.0;
  double panic_threshold_percent = 200.0;
  double max_scale_up_rate = 1000.0;
  double max_scale_down_rate = 2.0;
  int min_replicas = 0;
  int max_replicas = 0;            // 0 = unbounded
  int initial_replicas = 1;
  double scale_to_zero_grace_period_s = 30.0;
  bool autoscaling = true;
  bool warm_start = false;
  int activator_buffer_limit = 0;  // requests per model; 0 = unbounded
};

class WholeGpuPolicy final : public Policy, public EventHandler {
 public:
  WholeGpuPolicy(const JsonObject& config, const Scenario& scenario);

  void Start(PolicyContext& ctx) override;
  void OnArrival(const Request& request) override;
  void OnInstanceReady(int instance) override;
  void OnSlotsFreed(int instance) override;
  void OnEvent(SimTime now, uint64_t tag) override;

  const WholeGpuConfig& config() const { return config_; }

 private:
  struct ModelState {
    std::vector<double> window;  // average concurrency of each tick, a ring
    size_t window_next = 0;
    size_t window_filled = 0;
    double last_integral = 0;
    SimTime panic_since = -1;    // -1: not in panic
    int panic_max = 0;
    SimTime zero_since = -1;     // -1: desired > 0
    SimTime wake_refused_at = -1;  // the activator's last failed wake-up, retried a tick later
  };

  // Instances of the model counted as its scale: loading or ready.
  int Scale(int model, int* ready) const;
  bool StartOne(int model, bool warm, const char* why);
  void Tick(SimTime now);
  void ScaleModel(int model, SimTime now);

  WholeGpuConfig config_;
  LeastLoadedRouter router_;
  double target_per_pod_ = 0;
  PolicyContext* ctx_ = nullptr;
  std::vector<ModelState> state_;
  size_t stable_ticks_ = 1;
  size_t panic_ticks_ = 1;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_WHOLE_GPU_H_
