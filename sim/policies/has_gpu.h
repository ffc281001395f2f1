// has-gpu: HAS-GPU (Gu et al., Euro-Par'25), a port of its public controller
// (KontonGu/HAS-GPU internal/controller/has_autoscaling.go, persistentReconcile.go,
// request_predictor_kalman.go, tmp_database.go). Each rule is quoted beside its code in
// has_gpu.cc; facts and constants: ../shared/reference/PAPERS.md.
//
// Each GPU has two rows, one SM share each; the pods in a row time-share it by quota
// (Σ quota <= 1) and the two rows run side by side (here: two SM partitions of the GPU).
//   first pod   every model keeps one: GetMostEfficientConfig(funcName)'s shape (the least
//               SM × quota serving 35 rps over the profile data that loads, batch 4 only:
//               in practice its default, 30% SM, quota 0.3, batch 4) on the least occupied
//               GPU in use below occupancy 0.5, else a new GPU, in FindOptimalRowIdx's row;
// Every 2 s, per model:
//   rate        arrivals of the last 10 s / 10 s, into ONE Kalman filter shared by every
//               model (A = H = 1, Q = 1, R = 10, from x = 0): prediction = estimate + √P,
//               at least rate + 5 rps, both written back into the estimate;
//   capacity    Σ over the model's pods of rapp() = 1000 / (L_pred + 70 ms) × (b + 1) / 2,
//               L_pred from the predictor (default: learned, RaPP-like), b the pod's batch;
//   scale up    when prediction > 0.9 × capacity, by the deficit prediction − 0.9 × capacity:
//               first vertically (pods with the most SMs first, each raising its quota in
//               10% steps as far as its row has quota, until its gain covers the deficit
//               left), then horizontally in passes: every GPU in use with occupancy < 0.95,
//               least occupied first, gets one pod at the row and quota of highest predicted
//               capacity (batch 4) over its rows, an unused row taking the model's SM
//               heuristic (kept for that GPU once set), placed in FindOptimalRowIdx's row
//               (the first of that SM share); then a new GPU with GetMostEfficientConfig()'s
//               default shape (30% SM, quota 0.3, batch 4); with no new GPU left, one
//               fallback pod of quota 0.1 on the least occupied GPU, and it stops;
//   scale down  when prediction < 0.3 × capacity, at most every 10 s, by the excess
//               0.9 × capacity − prediction: pods with the fewest SMs first lower their
//               quotas in 10% steps (staying above 0) until their loss covers the excess
//               left, then pods of at most 50% SM whose capacity fits in the excess left are
//               removed; never the last pod.
// Occupancy (HGO) is the public code's integer arithmetic: a pod counts 1 at 100% SM and
// quota 100, else 0 (option occupancy_integer_division false: the paper's Σ SM × quota).
// Where this cannot or does not follow the public code (each also noted at its code):
//  - the public code can place a pod in a row without the quota for it (FindOptimalRowIdx,
//    the first pod) or an unused row whose SMs do not fit beside the other; the cluster
//    refuses such slices (logged) and the pod is not started (the first pod tries the next
//    GPU);
//  - GetMostEfficientConfig() without a name either returns its defaults or, when its
//    profile lookup succeeds, indexes an empty argument list and panics; the defaults are
//    used, as the artifact's usage logs show;
//  - ties among GPUs of equal occupancy go to the lowest index (the public code sorts a
//    map's random iteration order);
//  - the state is read from the cluster every tick; the public code's own bookkeeping of
//    pod names and quotas drifts from the pods it creates, which is not reproduced;
//  - rapp() is the predictor's latency in the public formula (the RaPP service is not run).
// Options, off by default: slo_gate (every shape chosen must keep the predicted latency +
// the model's time outside the GPU within its SLO), kalman_per_model, new_gpu_config
// "search" (first pods and new GPUs search every batch 1-8, as the embedded profile data
// would give), new_pod_quota "smallest_sufficient".
// Ablation switches: vertical, horizontal, alignment (off: a new pod opens an unused row
// whenever it can, never joining one in use), the predictor, the control interval.
#ifndef GPUSLICE_SIM_POLICIES_HAS_GPU_H_
#define GPUSLICE_SIM_POLICIES_HAS_GPU_H_

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "sim/policies/arrival_window.h"
#include "sim/policies/gpu_order_index.h"
#include "sim/policies/policy.h"
#include "sim/policies/routing.h"

namespace gpuslice {

// The rate predictor, as request_predictor_kalman.go: a scalar Kalman filter with A = H = 1
// from x = 0, P = 1, whose prediction adds alpha·√P and is at least the measurement +
// min_buffer, both written back into its estimate.
class KalmanRate {
 public:
  KalmanRate(double q, double r, double alpha = 1, double min_buffer = 5)
      : q_(q), r_(r), alpha_(alpha), min_buffer_(min_buffer) {}
  // Feeds one measurement (rps); returns the prediction, which is also the new estimate.
  double Update(double measurement);
  double estimate() const { return x_; }
  double variance() const { return p_; }

 private:
  double q_, r_, alpha_, min_buffer_;
  double x_ = 0, p_ = 1;
};

struct HasGpuConfig {
  double interval_s = 2;
  double rate_window_s = 10;
  double kalman_q = 1, kalman_r = 10;
  double min_margin_rps = 5;   // the filter's MinBuffer
  bool kalman_per_model = false;
  double up_threshold = 0.9;
  double down_threshold = 0.3;
  double down_cooldown_s = 10;
  double quota_step = 0.1;     // DeltaIq
  double occupancy_limit = 0.95;
  int batch = 4;
  double throughput_overhead_ms = 70;
  std::string new_gpu_config = "public";  // or "search"
  double new_gpu_sm_percent = 30, new_gpu_quota = 0.3;  // GetMostEfficientConfig's defaults
  double new_gpu_min_rps = 35;  // "search" only
  bool vertical = true;
  bool horizontal = true;
  bool alignment = true;
  bool warm_start = true;
  std::string new_pod_quota = "best_throughput";  // or "smallest_sufficient"
  bool occupancy_integer_division = true;
  bool slo_gate = false;
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

  // The scaler's throughput model of one pod (rps), rapp(); batch 0: the default (4).
  double PodThroughput(int model, double sm_percent, double quota, int batch) const;
  // The SM share an unused row takes for `model` (getOptimalSMPartition).
  double HeuristicSmPercent(int model, double required_rps) const;
  // Places one new pod of `model` on `gpu` by the row rules; false if it does not fit.
  // Public for tests of the row rules on hand-built GPU states.
  bool PlacePodForTest(int model, int gpu, double deficit) { return AddPodOnGpu(model, gpu, deficit) > 0; }
  void ScaleUpForTest(int model, double prediction) { ScaleUp(model, prediction); }
  void ScaleDownForTest(int model, double prediction) { ScaleDown(model, prediction, ctx_->engine.Now()); }

 private:
  double Capacity(int model) const;
  std::vector<int> Pods(int model) const;  // accepting instances
  double SmPercentOf(const Slice& slice) const;
  void ScaleUp(int model, double prediction);
  void ScaleDown(int model, double prediction, SimTime now);
  struct Shape {
    double sm_percent;
    double quota;
    int batch;
  };
  // GetMostEfficientConfig(funcName)'s search over the profiled grid (batch 4, or every
  // batch with `all_batches`).
  Shape MostEfficientShape(int model, bool all_batches) const;
  // FindOptimalRowIdx: a partition index, or -1 for the unused row.
  int FindOptimalRow(int gpu, int sm_count) const;
  int BatchOfLargestPod(int model) const;
  // Each returns the predicted capacity of the pod it started, 0 if none.
  double AddPodOnGpu(int model, int gpu, double deficit, bool warm = false);
  double AddPodOnNewGpu(int model, double deficit);
  double AddFallbackPod(int model, double deficit);
  // Starts a pod and logs it; returns `believed_rps`, what the scaler counts it as, or 0.
  // `why_detail` is called only when the pod starts (formatting every refused try was a
  // tenth of a 2,000-function run).
  double StartPod(int model, int gpu, int partition, int sm_count, double quota, int batch, double believed_rps,
                  bool warm, const std::function<std::string()>& why_detail);
  // Refusals counted (output.refusals "count"): when `model`'s memory does not fit on `gpu`,
  // counts the refusal a start would get and returns true. REQUIRES: the quota to be asked
  // for is in (0, 1].
  bool CountIfRefusedOnMemory(int model, int gpu);
  double Occupancy(int gpu) const;
  // False when AddPodOnGpu, for any model, would offer no row: every row in use has less
  // than a quota step free, and no unused row is offered (two rows in use, or its kept SM
  // share no longer fits); it then returns 0 and changes nothing.
  bool Open(int gpu) const;
  // With slo_gate: the predicted batch latency + the model's time outside the GPU within
  // its SLO. Without: always true (the public code has no such check).
  bool MeetsSlo(int model, double sm_percent, double quota) const;
  void Log(const char* kind, int model, int gpu, int sm_count, double quota, const std::string& detail);

  HasGpuConfig config_;
  const Scenario& scenario_;
  LeastLoadedRouter router_;
  PolicyContext* ctx_ = nullptr;
  std::unique_ptr<Predictor> predictor_;
  std::vector<KalmanRate> kalman_;
  std::vector<ArrivalWindow> arrivals_;  // per model
  std::vector<SimTime> last_down_;
  std::vector<int> unused_row_sm_;  // [GPU] the SM count its unused row keeps, 0 if none yet (updateSMConfigForGPU)
  // The GPUs in use (holding a slice) by Occupancy, ties by id: the public code's sort of
  // the GPUs by HGO, kept current through the cluster's change listener.
  std::unique_ptr<GpuOrderIndex> in_use_;
  // The GPUs in use on which AddPodOnGpu may start a pod or change state (Open), in the
  // same order: a scale-up pass walks these only, the others giving it 0 and no effect.
  std::unique_ptr<GpuOrderIndex> open_;
  // A row AddPodOnGpu offers a new pod: a partition index (-1: the unused row), its SM
  // count and its free quota.
  struct ShapeRow {
    int partition;
    int sm_count;
    double free;
  };
  // Capacity's memo of each pod's PodThroughput, by instance id, with the shape it is for.
  struct PodThroughputMemo {
    int sm_count = -1;
    double quota = -1;
    int batch = -1;
    double rps = 0;
  };
  mutable std::vector<PodThroughputMemo> pod_throughput_;
  std::vector<ShapeRow> rows_scratch_;  // AddPodOnGpu's rows (it never re-enters itself)
  static uint64_t HashRows(const GpuSpec* gpu_type, const std::vector<ShapeRow>& rows);
  static bool SameRows(const std::vector<std::pair<int, double>>& kept, const std::vector<ShapeRow>& rows);
  // AddPodOnGpu's shape search is a pure function of the model, the GPU's type and rows (SM
  // count and free quota each) and the deficit; a scale-up pass meets the same rows on many
  // GPUs. Remembered for one model and deficit, at most 64 shapes of rows at a time, each
  // filed under a hash of its GPU type and rows.
  struct ShapeSearch {
    uint64_t hash = 0;
    const GpuSpec* gpu_type = nullptr;         // SM shares are of its SM count
    std::vector<std::pair<int, double>> rows;  // (SM count, free quota), in search order
    int best_row = -1;
    double best_quota = 0, best_capacity = 0;
  };
  std::vector<ShapeSearch> shape_searches_;
  int shape_searches_model_ = -1;
  double shape_searches_deficit_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_HAS_GPU_H_
