// StagesStream: a list of constant-rate stages (HAS-GPU's load format).
//
// Stage i lasts `stage` and carries rates[i] requests per second. How the round(rate ×
// stage) requests of a stage are placed inside it:
//   even:    evenly spaced from the stage's start (k6's constant-arrival-rate executor);
//   uniform: independent uniform times inside the stage, sorted;
//   poisson: a Poisson process at the stage's rate (the count is then random).
#ifndef GPUSLICE_TRACES_STAGES_H_
#define GPUSLICE_TRACES_STAGES_H_

#include <vector>

#include "sim/engine/rng.h"
#include "traces/arrival_stream.h"

namespace gpuslice {

enum class StageSpacing { kEven, kUniform, kPoisson };

class StagesStream final : public ArrivalStream {
 public:
  // REQUIRES: stage > 0; every rate >= 0.
  StagesStream(int32_t function, std::vector<double> rates_rps, SimTime stage, SimTime start,
               StageSpacing spacing, RngStream rng);
  bool Next(Arrival* out) override;

 private:
  bool StartStage();

  int32_t function_;
  std::vector<double> rates_rps_;
  SimTime stage_;
  SimTime start_;
  StageSpacing spacing_;
  RngStream rng_;
  size_t stage_index_ = 0;
  bool in_stage_ = false;
  // Current stage:
  long long count_ = 0;
  long long emitted_ = 0;
  double poisson_t_ns_ = 0;
  std::vector<SimTime> uniform_times_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_STAGES_H_
