// The `calibrate` subcommand, shared by gpuslice and the standalone gpuslice-calibrate (the
// binary to copy to a GPU machine: no HDF5, static C++ runtime).
#ifndef GPUSLICE_TOOLS_CLI_CALIBRATE_H_
#define GPUSLICE_TOOLS_CLI_CALIBRATE_H_

#include <atomic>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "gpu/calibrate/calibrator.h"

namespace gpuslice {

struct CalibrateCommand {
  CalibrationOptions options;
  std::string zoo;          // "" = found beside the binary or in the source tree
  std::vector<double> quota_percents;
  int device = 0;
  bool plan = false;        // describe the plan; no GPU needed
  bool check = false;       // open the GPU, print what was found, measure nothing
  bool no_pairs = false;
  std::string argv0;
};

void AddCalibrateOptions(CLI::App* app, CalibrateCommand* cmd);

// The zoo folder: beside the binary (the bundle), in the source tree it was built from, or
// at GPUSLICE_SOURCE_ZOO. Throws InputError naming --zoo when none is found.
std::string FindZoo(const std::string& argv0);

// Exit codes: 0 done, 2 bad input, 69 no usable GPU (kExitNoGpu), 1 a GPU call or library
// failed (or a --check failed), 75 the time budget is spent (DIR.partial kept for --resume),
// 130 interrupted.
inline constexpr int kExitBudgetSpent = 75;  // EX_TEMPFAIL
int ExecuteCalibrate(CalibrateCommand& cmd, const std::atomic<bool>& interrupted);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_CALIBRATE_H_
