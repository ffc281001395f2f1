// static-slices: a fixed allocation of GPU slices ("pods"), placed once at the start and
// never scaled. The baseline for studying a hand-made partitioning, interference between
// co-located slices, and what a predictor's error costs.
//
// Each entry of `pods` names a model, an SM share and a time quota, and either a `count` or
// an expected `rate_rps`. With a rate, the count comes from the policy's predictor (its
// belief, not the truth):
//   per-pod throughput = max_batch / predicted L(max_batch, sm, quota)
//   count              = ceil(rate_rps / (throughput × target_utilization))
// so a predictor that overestimates latency buys too many slices, and one that
// underestimates buys too few and violates the SLO.
//
// Placement, first fit over the GPUs in order: join a partition of the same SM count with
// quota and memory to spare (time-sharing), else open a new partition in free SMs (space-
// sharing), else the pod is refused (logged as a "refused" action). Requests are routed by
// the LeastLoadedRouter.
#ifndef GPUSLICE_SIM_POLICIES_STATIC_SLICES_H_
#define GPUSLICE_SIM_POLICIES_STATIC_SLICES_H_

#include <vector>

#include "sim/policies/policy.h"
#include "sim/policies/routing.h"

namespace gpuslice {

struct PodSpec {
  int model = 0;
  double sm_percent = 100;
  double quota = 1.0;
  int count = 0;          // 0: sized from rate_rps
  double rate_rps = 0;
  double target_utilization = 0.7;
};

class StaticSlicesPolicy final : public Policy {
 public:
  StaticSlicesPolicy(const JsonObject& config, const Scenario& scenario);

  void Start(PolicyContext& ctx) override;
  void OnArrival(const Request& request) override;
  void OnInstanceReady(int instance) override;
  void OnSlotsFreed(int instance) override;

  // The number of pods an entry asks for under `predictor`.
  static int SizePods(const PodSpec& pod, const Predictor& predictor, const Scenario& scenario, int gpu_sm_count);

 private:
  std::vector<PodSpec> pods_;
  PredictorSpec predictor_spec_;
  bool warm_start_ = true;
  LeastLoadedRouter router_;
  PolicyContext* ctx_ = nullptr;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_STATIC_SLICES_H_
