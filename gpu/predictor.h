// Predictor: what a policy believes a batch will take. The truth (PerfModel) times the
// batches; a policy sees only its Predictor, so a predictor's error shows up as SLO
// violations, as it would on real hardware.
//
//   oracle   the truth without noise;
//   profile  the profile table a policy would have measured, on a coarse grid: every
//            `sm_stride`-th measured SM share and every `quota_stride`-th quota (plus the
//            largest of each), interpolated linearly;
//   token-window  the measured solo latency at full quota, throttled by the plain token-window
//            rule (ceil(L / qW) windows): the analytic model a scheduler designer would
//            assume; it misses the measured quota effect by 18-54% MAPE;
//   learned  a RaPP-like predictor: from the SM sweep at full quota and the quota sweep at
//            the largest SM share (RaPP's inputs), the structural model of
//            gpu/latency_fit.h. (RaPP itself is a graph network over the model's operators;
//            this keeps its inputs and replaces the network by the fitted structure.)
// Models without a profile (constant latency, roofline estimates) are predicted exactly by
// all of them: there is no measurement to be wrong about.
#ifndef GPUSLICE_GPU_PREDICTOR_H_
#define GPUSLICE_GPU_PREDICTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "gpu/perf_model.h"

namespace gpuslice {

struct PredictorSpec {
  std::string name = "oracle";  // oracle | profile | token-window | learned
  int sm_stride = 4;            // profile: keep every 4th SM share (5, 25, 45, 65, 85, 100 %)
  int quota_stride = 2;         // profile: keep every 2nd quota (10, 30, 50, 70, 90, 100 %)
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  // Predicted latency of one batch in ms, without overhead.
  virtual double PredictMs(int model, int batch, const SliceShape& slice) const = 0;
  const std::string& name() const { return name_; }

 protected:
  explicit Predictor(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

// Throws std::invalid_argument for an unknown name (validated earlier by the scenario).
std::unique_ptr<Predictor> MakePredictor(const PredictorSpec& spec, const PerfModel& truth);

// "oracle, profile, learned".
std::string PredictorNames();
bool IsPredictorName(const std::string& name);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_PREDICTOR_H_
