// The `perf predict` and `perf check` subcommands of the gpuslice command line.
#ifndef GPUSLICE_TOOLS_CLI_PERF_H_
#define GPUSLICE_TOOLS_CLI_PERF_H_

#include <string>

#include "gpu/predictor.h"

namespace gpuslice {

struct PerfCommand {
  std::string profiles;  // predict: a profile CSV or a folder of them; check: one CSV
  std::string model;
  int batch = 1;
  double sm_percent = 100;
  double quota_percent = 100;
  PredictorSpec predictor;
  double token_window_ms = 40;
  bool json = false;
  std::string output;          // fit: the profile to write
  double holdout = 0.2;        // fit: random hold-out fraction
  long long seed = 1;          // fit: hold-out draw
  bool force = false;          // fit: overwrite an existing profile
};

int ExecutePerfPredict(const PerfCommand& cmd);
int ExecutePerfCheck(const PerfCommand& cmd);
int ExecuteFit(const PerfCommand& cmd);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_PERF_H_
