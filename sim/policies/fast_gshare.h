// fast-gshare: FaST-GShare (Gu et al., ICPP'23) as HAS-GPU's evaluation configured it, its
// baseline (KontonGu/HAS-GPU, validation/fast-gshare/yaml).
//
// Pods of a fixed shape: SM share 30% (MPS active-thread percentage), quota request = limit
// = 0.5 under the token scheduler (window 40 ms), batch 1, 2.7 GB. Pods are packed on GPUs
// as SM × time rectangles: for pods of one shape that is columns of the pod's SM share, each
// holding pods until their quotas sum to 1 (placement.h). The token scheduler's effect on
// latency is in the performance model (the measured quota grids).
//
// The autoscaler is a RECONSTRUCTION: the scaler HAS-GPU ran ("Fast-Scaler") is not public,
// and KontonGu/FaST-GShare-Autoscaler never calls its rule (PAPERS.md). What is known:
// every 10 s, "scale up when Δrps > 0.2 × capacity, down when the excess > 0.2 × capacity".
// Here, on the demand D and the capacity C = pods × per-pod throughput:
//   D = the request rate of the last 10 s + the backlog (requests waiting for a pod, in
//       its pre-processing or for its GPU) drained over backlog_drain_s (10 s; 0: rate
//       only, the plain band rule);
//   per-pod throughput = batch / the saturated interval between batches of the pod's shape
//       under the token schedule (SaturatedBatchIntervalMs, from the predictor's belief, as
//       the executor splits the truth), bounded by the pod's CPU (ModelSpec::PodRps);
//   scale up   when D − C > 0.2 × C: to ceil(D / per-pod throughput) pods;
//   scale down when C − D > 0.2 × C: to max(min_pods, ceil(D / per-pod throughput)).
// The backlog term makes the band stable: a load within 20% over capacity that the rule
// alone would tolerate forever grows a backlog, which raises D past the band. New pods
// cold-start (container start + model load). Removed pods drain: the newest loading ones
// first, then the ready ones with the least work.
#ifndef GPUSLICE_SIM_POLICIES_FAST_GSHARE_H_
#define GPUSLICE_SIM_POLICIES_FAST_GSHARE_H_

#include <vector>

#include "sim/policies/arrival_window.h"
#include "sim/policies/policy.h"
#include "sim/policies/routing.h"

namespace gpuslice {

struct FastGShareConfig {
  double sm_percent = 30;
  double quota = 0.5;
  int batch = 1;
  double interval_s = 10;
  double rate_window_s = 10;
  double up_threshold = 0.2;
  double down_threshold = 0.2;
  double backlog_drain_s = 10;  // 0: the demand is the arrival rate alone
  int min_pods = 1;
  int initial_pods = 1;
  bool warm_start = false;
  PredictorSpec predictor;
};

class FastGSharePolicy final : public Policy, public EventHandler {
 public:
  FastGSharePolicy(const JsonObject& config, const Scenario& scenario);

  void Start(PolicyContext& ctx) override;
  void OnArrival(const Request& request) override;
  void OnInstanceReady(int instance) override;
  void OnSlotsFreed(int instance) override;
  void OnEvent(SimTime now, uint64_t tag) override;

  // The pod count the heuristic wants for `rps` given `pods` of `per_pod_rps` each.
  static int Desired(const FastGShareConfig& c, int pods, double per_pod_rps, double rps);

 private:
  int Pods(int model) const;  // loading or ready

  FastGShareConfig config_;
  LeastLoadedRouter router_;
  PolicyContext* ctx_ = nullptr;
  std::unique_ptr<Predictor> predictor_;
  std::vector<double> per_pod_rps_;
  std::vector<ArrivalWindow> arrivals_;  // per model
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_FAST_GSHARE_H_
