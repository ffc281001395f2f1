// has-gpu: HAS-GPU (Gu et al., Euro-Par'25; KontonGu/HAS-GPU,
// internal/controller/has_autoscaling.go). Facts and constants: reference/PAPERS.md; each
// rule is restated beside its code in has_gpu.cc.
//
// Each GPU has two rows, one SM share each; the pods in a row time-share it by quota
// (Σ quota <= 1) and the two rows run side by side (here: two SM partitions of the GPU).
// Every 2 s, per model:
//   rate        arrivals of the last 10 s / 10 s, smoothed by a Kalman filter (A = H = 1,
//               Q = 1, R = 10); prediction = estimate + √P, at least rate + 5 rps;
//   capacity    Σ over the model's pods of 1000 / (L_pred + 70 ms) × (b + 1) / 2, L_pred from
//               the predictor (default: learned, RaPP-like), batch b = 4;
//   scale up    when prediction > 0.9 × capacity: first vertically (raise quotas by 10% in
//               their rows, pods with the most SMs first, no restart), then horizontally (a
//               new pod on the least occupied GPU with occupancy < 0.95: in a row of the
//               same SM share, else an empty row with the model's SM heuristic (50% if the
//               shortfall exceeds 25 rps, else 30%), else the row with the most free quota),
//               then a new GPU with the most efficient configuration (best throughput per
//               SM × quota among those serving at least 35 rps);
//   scale down  when prediction < 0.3 × capacity, at most every 10 s: lower quotas by 10%
//               (floor 5%), then remove the smallest pods while the rest keep 0.9 × the
//               prediction covered; never the last pod.
// Every configuration chosen (a new pod's quota, a lowered quota, a new GPU's shape) must
// keep the predicted latency + the model's time outside the GPU within its SLO when one can.
// Where the public code differs from the paper (has_autoscaling.go): the code computes GPU
// occupancy with an integer division (option occupancy_integer_division), and does not check
// that two rows' SM shares fit in 100% (here the cluster refuses such a slice and the refusal
// is logged: an invariant, not an option).
// Ablation switches: vertical, horizontal, alignment (off: a new pod never seeks a row of
// its own SM share), the predictor, the control interval, and the cluster's cold start.
#ifndef GPUSLICE_SIM_POLICIES_HAS_GPU_H_
#define GPUSLICE_SIM_POLICIES_HAS_GPU_H_

#include <deque>
#include <vector>

#include "sim/policies/arrival_window.h"
#include "sim/policies/policy.h"
#include "sim/policies/routing.h"

namespace gpuslice {

// The rate predictor: a scalar Kalman filter with A = H = 1.
class KalmanRate {
 public:
  KalmanRate(double q, double r) : q_(q), r_(r) {}
  // Feeds one measurement; returns the prediction estimate + √P.
  double Update(double measurement);
  double estimate() const { return x_; }
  double variance() const { return p_; }

 private:
  double q_, r_;
  double x_ = 0, p_ = 1;
  bool primed_ = false;
};

struct HasGpuConfig {
  double interval_s = 2;
  double rate_window_s = 10;
  double kalman_q = 1, kalman_r = 10;
  double min_margin_rps = 5;
  double up_threshold = 0.9;
  double down_threshold = 0.3;
  double down_cooldown_s = 10;
  double quota_step = 0.1;
  double quota_floor = 0.05;
  double occupancy_limit = 0.95;
  int batch = 4;
  double throughput_overhead_ms = 70;
  double large_shortfall_rps = 25;
  double large_sm_percent = 50;
  double small_sm_percent = 30;
  double new_gpu_min_rps = 35;
  bool vertical = true;
  bool horizontal = true;
  bool alignment = true;
  bool warm_start = true;
  // A new pod's quota in an existing row: "best_throughput" (the paper and the code: the
  // quota with the best predicted throughput, i.e. all the row has free) or
  // "smallest_sufficient" (the smallest that covers the shortfall).
  std::string new_pod_quota = "best_throughput";
  // The public code's occupancy (HGO) multiplies by SMPartition / 100 in integer
  // arithmetic, so rows under 100% SMs add nothing: GPUs look emptier than they are. Off:
  // the paper's occupancy, Σ SM fraction × quota.
  bool occupancy_integer_division = false;
  PredictorSpec predictor{"learned"};
};

class HasGpuPolicy final : public Policy, public EventHandler {
 public:
  HasGpuPolicy(const JsonObject& config, const Scenario& scenario);

  void Start(PolicyContext& ctx) override;
  void OnArrival(const Request& request) override;
  void OnInstanceReady(int instance) override;
  void OnSlotsFreed(int instance) override;
  void OnEvent(SimTime now, uint64_t tag) override;

  // The scaler's throughput model of one pod (rps).
  double PodThroughput(int model, double sm_percent, double quota) const;
  // Places one new pod of `model` on `gpu` by the row rules; false if it does not fit.
  // Public for tests of the alignment rule on hand-built GPU states.
  bool PlacePodForTest(int model, int gpu, double shortfall) { return AddPodOnGpu(model, gpu, shortfall); }

 private:
  double Capacity(int model) const;
  void ScaleUp(int model, double prediction);
  void ScaleDown(int model, double prediction, SimTime now);
  bool AddPodOnGpu(int model, int gpu, double shortfall, bool warm = false);
  bool AddPodOnNewGpu(int model);
  double Occupancy(int gpu) const;
  // Predicted batch latency + the model's time outside the GPU within its SLO.
  bool MeetsSlo(int model, double sm_percent, double quota) const;

  HasGpuConfig config_;
  const Scenario& scenario_;
  LeastLoadedRouter router_;
  PolicyContext* ctx_ = nullptr;
  std::unique_ptr<Predictor> predictor_;
  std::vector<KalmanRate> kalman_;
  std::vector<ArrivalWindow> arrivals_;  // per model
  std::vector<SimTime> last_down_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_HAS_GPU_H_
